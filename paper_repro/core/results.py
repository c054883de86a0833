"""Where chapters write results: atomic JSON/NPZ files and the claims read by the scorecard."""
from __future__ import annotations

import dataclasses
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .verdicts import VERDICTS

REPO_ROOT = Path(__file__).resolve().parents[2]


def output_root() -> Path:
    """Root of all chapter outputs: ``$PAPER_REPRO_OUTPUT`` or ``<repo>/artifacts``."""
    return Path(os.environ.get("PAPER_REPRO_OUTPUT") or REPO_ROOT / "artifacts").resolve()


def output_dir(chapter: str) -> Path:
    """Folder for one chapter's figures and results (created)."""
    path = output_root() / chapter
    path.mkdir(parents=True, exist_ok=True)
    return path


def to_jsonable(obj: Any) -> Any:
    """Convert numpy/torch values, dataclasses and paths to JSON types; NaN and inf become None."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if hasattr(obj, "detach"):  # torch tensor
        obj = obj.detach().cpu().numpy()
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, Path):
        return str(obj)
    return obj


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and ``os.replace`` (never a half-written file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_json(chapter: str, name: str, obj: Any) -> Path:
    """Save ``obj`` as ``<output_dir(chapter)>/<name>.json`` atomically."""
    path = output_dir(chapter) / f"{name}.json"
    atomic_write_bytes(path, json.dumps(to_jsonable(obj), indent=2, allow_nan=False).encode())
    return path


def load_json(chapter: str, name: str) -> Any:
    """Read back a JSON file written by :func:`save_json`."""
    return json.loads((output_dir(chapter) / f"{name}.json").read_text())


def save_npz(chapter: str, name: str, **arrays: Any) -> Path:
    """Save arrays as ``<output_dir(chapter)>/<name>.npz`` atomically (loadable with allow_pickle=False)."""
    import io

    buf = io.BytesIO()
    np.savez_compressed(buf, **{k: np.asarray(to_numpy(v)) for k, v in arrays.items()})
    path = output_dir(chapter) / f"{name}.npz"
    atomic_write_bytes(path, buf.getvalue())
    return path


def to_numpy(value: Any) -> Any:
    """Tensor -> numpy array; anything else unchanged."""
    return value.detach().cpu().numpy() if hasattr(value, "detach") else value


@dataclasses.dataclass(frozen=True)
class Claim:
    """One headline claim of a paper, with our computed number and verdict (a scorecard row)."""

    id: str  # short stable key, e.g. "gn_alpha_mnist"
    statement: str  # the paper's claim in words
    paper_value: str  # what the paper reports, as text
    ours: str  # our measured value, formatted from computed numbers
    verdict: str  # one of VERDICTS, computed by a rule of core.verdicts
    dataset: str  # data it was measured on
    profile: str  # smoke | quick | paper
    detail: str = ""  # how it was measured / caveats
    source: str = ""  # where paper_value comes from: "Sec. 4, Fig. 3", "Eq. (7)", "released code", "derived here",
    #                   or "qualitative" (the paper states the claim without a number)
    beyond: bool = False  # True for rows that go beyond the paper (own table, never in the tally)
    figure: str = ""  # name of the saved figure that backs the row (save_figure name), "" when none
    basis: str = "paper"  # where the target comes from, one of BASES; the tally counts only COUNTED_BASES

    def __post_init__(self) -> None:
        from .config import check_choice

        check_choice("verdict", self.verdict, VERDICTS)
        check_choice("basis", self.basis, BASES)

    @property
    def counted(self) -> bool:
        """True when the row enters a chapter's tally: a paper claim whose target the paper or its code states."""
        return counted(dataclasses.asdict(self))


BASES = ("paper", "released code", "abstract", "summary", "derived here")  # Claim.basis values
COUNTED_BASES = ("paper", "released code")  # targets a tally counts; the others are shown apart


def counted(row: dict) -> bool:
    """Whether a saved claim row (dict) enters the tally: not beyond the paper and its target stated by the paper
    or its released code (rows saved before ``basis`` existed count as "paper")."""
    return not row.get("beyond") and row.get("basis", "paper") in COUNTED_BASES


def save_claims(chapter: str, claims: list[Claim]) -> Path:
    """Write the chapter's claims for the scorecard page."""
    return save_json(chapter, "claims", {"chapter": chapter, "claims": [dataclasses.asdict(c) for c in claims]})


def load_claims(root: Path | None = None) -> dict[str, list[dict]]:
    """All chapters' saved claims, keyed by chapter."""
    root = Path(root) if root else output_root()
    out = {}
    for path in sorted(root.glob("*/claims.json")):
        data = json.loads(path.read_text())
        out[data["chapter"]] = data["claims"]
    return out


def glue(**values: Any) -> None:
    """Make computed values quotable in the chapter's text, as {glue:text}`name` or {glue:text}`name:.2f` (myst-nb).

    Prose never types a measured number: it pastes the value this run computed. Without myst-nb (e.g. on Colab)
    this does nothing. Names must be unique within a chapter.
    """
    try:
        from myst_nb import glue as myst_glue
    except ImportError:  # pragma: no cover - the book extra is not installed
        return
    for name, value in values.items():
        if isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.ndim == 0):
            value = value.item()  # "1.23", not "np.float64(1.23)"
        myst_glue(name, value, display=False)


def record_path(chapter: str, architecture: str, dataset: str, measurement: str) -> Path:
    """Note that this run executed one (architecture, dataset, measurement) combination (``paper_paths.json``).

    Called from the chapter's own process (never from sweep workers); the paper-path test compares these with the
    combinations the ``paper`` preset reaches.
    """
    path = output_dir(chapter) / "paper_paths.json"
    done = {tuple(p) for p in json.loads(path.read_text())} if path.exists() else set()
    done.add((str(architecture), str(dataset), str(measurement)))
    atomic_write_bytes(path, json.dumps(sorted(done), indent=1).encode())
    return path


def recorded_paths(chapter: str) -> set[tuple[str, str, str]]:
    """The combinations :func:`record_path` noted for ``chapter`` in the current output root."""
    path = output_dir(chapter) / "paper_paths.json"
    return {tuple(p) for p in json.loads(path.read_text())} if path.exists() else set()
