"""Command line: ``python -m paper_repro list | plan | run | build | fetch | record-costs | gpu-check`` (also the
``paper-repro`` script)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm.auto import tqdm

from ..core.config import DEVICES, PROFILES, ConfigError
from ..core.fetch import DataError
from ..core.results import REPO_ROOT
from . import build, chapters, execute
from .sweep import EXECUTORS

SWEEP_FLAGS = ("executor", "slurm_partition", "gpus_per_node", "timeout_min", "array_parallelism")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="paper-repro", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="print chapters and their parameters with defaults and meaning")
    run = sub.add_parser("run", help="execute chapters with papermill into the executed-notebooks folder")
    run.add_argument("chapters", nargs="*", help="chapter names (default: all, in book order)")
    run.add_argument("--profile", default="quick", choices=PROFILES)
    run.add_argument("--device", default="auto", choices=DEVICES)
    run.add_argument("-p", "--param", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                     help="override a chapter parameter (Python literal or string); repeatable")
    run.add_argument("--shrink", action="store_true",
                     help="paper-shaped tiny run: the profile's grids and architectures at minimal size (-p shrink True)")
    run.add_argument("--timeout", type=int, default=-1, help="per-cell timeout in s (default: by profile; 0 = none)")
    run.add_argument("--output", type=Path, default=None, help="output root (default: $PAPER_REPRO_OUTPUT or artifacts/)")
    run.add_argument("--root", type=Path, default=None, help=argparse.SUPPRESS)  # another book (tests)
    sw = run.add_argument_group("where the chapters' sweeps run (passed as the chapters' papermill parameters)")
    sw.add_argument("--executor", choices=EXECUTORS, default=None, help="inline (default) | local | slurm")
    sw.add_argument("--slurm-partition", default=None, help="Slurm partition (default: the cluster's default)")
    sw.add_argument("--gpus-per-node", type=int, default=None, help="GPUs per Slurm job (default 0)")
    sw.add_argument("--timeout-min", type=int, default=None, help="Slurm job time limit in minutes (default 600)")
    sw.add_argument("--array-parallelism", type=int, default=None, help="Slurm jobs running at once (default 16)")
    plan = sub.add_parser("plan", help="print what a profile will cost: runs, steps, FLOPs, memory, time, datasets")
    plan.add_argument("chapters", nargs="*", help="chapter names (default: all, in book order)")
    plan.add_argument("--profile", default="paper", choices=PROFILES)
    plan.add_argument("--check", action="store_true", help="exit 3 when a needed dataset is missing")
    build = sub.add_parser("build", help="render the book from executed notebooks (never re-executes)")
    build.add_argument("--output", type=Path, default=None, help="output root the notebooks were run into")
    build.add_argument("--profile", default=None, choices=PROFILES,
                       help="per chapter, the notebook of this profile (default and fallback: the most expensive present)")
    build.add_argument("--root", type=Path, default=None, help=argparse.SUPPRESS)
    build.add_argument("--no-strict", action="store_true", help="do not pass -W -n --keep-going")
    rec = sub.add_parser("record-costs", help="copy executed chapters' run times into book/profile_costs.json")
    rec.add_argument("--output", type=Path, default=None, help="output root the notebooks were run into")
    sub.add_parser("gpu-check", add_help=False, help="on a CUDA GPU: the paper_paths tests on it vs the CPU, and the "
                   "throughput of each chapter's heaviest sweep -> book/gpu_rate.json (gpu-check --help)")
    fetch = sub.add_parser("fetch", help="obtain and verify datasets (MNIST and Fashion-MNIST by default)")
    fetch.add_argument("datasets", nargs="*", default=["mnist", "fashion_mnist"])
    fetch.add_argument("--root", type=Path, default=None, help="data root (default: $PAPER_REPRO_DATA or data/)")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["gpu-check"]:  # its own options (pipeline/gpu_check.py)
        from . import gpu_check

        return gpu_check.main(argv[1:])
    args = _parser().parse_args(argv)
    try:
        if args.command == "list":
            for ch in chapters.chapters():
                print(f"{ch.name}: {ch.title}")
                for prm in ch.parameters():
                    print(f"    {prm.name}{': ' + prm.type if prm.type else ''} = {prm.default!r}  # {prm.help}")
        elif args.command == "run":
            return _run(args)
        elif args.command == "plan":
            from . import plan

            text, missing = plan.plan_text(args.chapters or None, args.profile)
            print(text)
            if missing and args.check:
                print(f"error: missing dataset(s) {', '.join(missing)} for the {args.profile} profile; nothing was "
                      f"run. Fetch them first (python -m paper_repro fetch {' '.join(missing)}; CIFAR: see "
                      "book/running.md, 'Datasets offline').", file=sys.stderr)
                return 3
        elif args.command == "build":
            html = build.build_book(args.root or REPO_ROOT, out=args.output, strict=not args.no_strict, profile=args.profile)
            print(f"book built: open {html / 'index.html'}")
        elif args.command == "record-costs":
            from .costs import COSTS_FILE, record

            print(f"{len(record(build.execution_report(args.output)))} entries in {COSTS_FILE}")
        elif args.command == "fetch":
            from ..core.fetch import fetch_all

            for name, folder in fetch_all(tuple(args.datasets), args.root).items():
                print(f"{name}: {folder}")
    except (ConfigError, DataError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _run(args: argparse.Namespace) -> int:
    """``run``: every chapter asked for; a failure prints one line and the partial notebook, the rest still run."""
    root = args.root or REPO_ROOT
    chosen = [chapters.find_chapter(c, root) for c in args.chapters] or chapters.chapters(root)
    params = {name: chapters.parse_value(value) for name, value in args.param}
    if args.shrink:
        params["shrink"] = True
    flags = {k: getattr(args, k) for k in SWEEP_FLAGS if getattr(args, k) is not None}
    timeout = None if args.timeout == 0 else args.timeout
    failures = 0
    for ch in tqdm(chosen, desc=f"chapters ({args.profile})", unit="chapter", disable=len(chosen) == 1):
        have = {p.name for p in ch.parameters()}
        lacking = sorted(set(flags) - have)
        if lacking:
            raise ConfigError(f"chapter {ch.name} has no parameter(s) {lacking} (its sweeps cannot be distributed)")
        try:
            path = execute.run_chapter(ch, args.profile, args.device, {**flags, **params}, args.output, timeout)
        except execute.ChapterFailed as exc:
            failures += 1
            print(f"error: {exc.chapter}: {exc.error}", file=sys.stderr)
            if exc.notebook:
                print(f"  partial notebook: {exc.notebook}", file=sys.stderr)
            continue
        print(f"executed {ch.name} -> {path}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
