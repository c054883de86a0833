"""Chapter 1 (Simsekli et al. 2019): the Explore renderers (precomputed frames in the book, live in Jupyter)."""
from __future__ import annotations

import functools

import torch

from ...core.estimators.tail import tail_index
from ...present.plotting import subplots
from .figures import plot_histogram
from .noise import sample_sas
from .run import NetRun, run_net


def render_synthetic(alpha: float, n: int):
    """Histogram of n SaS(alpha) samples with both estimators' alpha-hat."""
    x = sample_sas(alpha, int(n), generator=torch.Generator().manual_seed(0)).double()
    m, h = tail_index(x), tail_index(x, "hill")
    fig, ax = subplots(width=7)
    q = float(x.abs().quantile(0.99))
    ax.hist(x.clamp(-q, q).numpy(), bins=80, density=True, log=True, color="C0")
    ax.set(title=rf"$\alpha$ = {alpha:g}, n = {int(n):,}: Mohammadi {m.alpha:.2f} ± {m.stderr:.2f}, "
                 rf"Hill {h.alpha:.2f}",
           xlabel="x (clipped at the 99% quantile)", ylabel="density")
    return fig


@functools.lru_cache(maxsize=32)
def _live_net(width: int, depth: int, batch_size: int, dataset: str, loss: str) -> dict:
    return run_net(NetRun(dataset, 5000, 1000, width, depth, loss, batch_size, 0.1, 200, 0, device="auto"))


def net_renderer(tables: dict, cfg):
    """render(width, loss, depth, batch_size) -> noise histogram; precomputed rows, else a small live run."""
    def render(width: int, loss: str = "nll", depth: int | None = None, batch_size: int | None = None):
        depth, batch_size = depth or cfg.base_depth, batch_size or cfg.batch_size
        want = dict(width=width, loss=loss, depth=depth, normalize=True, batch_size=batch_size, arch="fc",
                    dataset=cfg.dataset)
        match = [r for t in tables.values() for r in t.select(**want) if r.get("hist")]
        row = match[0] if match else _live_net(width, depth, batch_size, cfg.dataset, loss)
        fig, ax = subplots(width=7)
        plot_histogram(row["hist"], row["alpha_train"], ax)
        ax.set_title(rf"width {width}, depth {depth}, $b$ = {batch_size}, {loss}: $\hat\alpha$ = "
                     f"{row['alpha_train']:.2f}" + ("" if match else " (live, small run)"))
        return fig
    return render
