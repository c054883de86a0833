# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Power-law escape rate of SGD (Mori, Ziyin, Liu & Ueda, 2022)
#
# {cite}`mori2022powerlaw` start from one observation: for the mean-square loss the SGD noise is *proportional to the
# loss*. Near a minimum $\theta^*$ the minibatch-noise covariance is
#
# $$\Sigma(\theta) \approx \frac{2L(\theta)}{B} H(\theta^*) ,$$
#
# because of the **decoupling approximation**
# $\frac1N\sum_\mu \ell_\mu \nabla f_\mu \nabla f_\mu^\top \approx L(\theta)\,\frac1N\sum_\mu \nabla f_\mu \nabla f_\mu^\top$.
# SGD is then $d\theta = -\nabla L\,dt + \sqrt{(2\eta L/B) H^*}\,dW$; after the time change $d\tau = L\,dt$ the noise
# is additive on the landscape $\log L$. Two consequences follow:
#
# * the stationary law is a power of the loss, $P(\theta) \propto L(\theta)^{-\phi}$ with $\phi = 1 + B/(\eta h^*)$;
# * the escape rate over a saddle $\theta^s$ is a **power law** in the loss ratio,
#   $\kappa \propto [L(\theta^s)/L(\theta^*)]^{-(B/(\eta h^*) + 1 - n/2)}$ ($h^*$: typical outlier Hessian
#   eigenvalue, $n$: number of outliers), not the Arrhenius law $e^{-\Delta L/T}$ of constant-noise Langevin
#   dynamics. The two agree when $\Delta L \ll L^*$ (temperature $T = \eta h^* L^*/B$); the power law only shows
#   when $\Delta L \gtrsim L^*$.
#
# No code was released; everything below is implemented from the paper. We check the decoupling on a real network
# (their Fig. 1), the noise-loss proportionality (Fig. 2), and the two predictions on linear regression, where every
# quantity is exact (Fig. 3).

# %% tags=["parameters"]
profile = "quick"  # smoke | quick | paper
device = "auto"  # auto | cpu | cuda
esc_lr = None  # learning rate of the escape-time experiment (None = preset: 0.25 smoke/quick, 0.1 paper)
esc_max_steps = None  # SGD steps per escape run before it counts as censored (None = preset)
noise_epochs = None  # epochs of the noise-strength runs (None = preset)
stat_chains = None  # parallel chains of the stationary-law experiment (None = preset)

# %%
import time

import numpy as np
import torch

from paper_repro.config import resolve_device
from paper_repro.experiments import escape_rate as er
from paper_repro.experiments import escape_rate_nn as enn
from paper_repro.experiments import escape_rate_plots as ep
from paper_repro.experiments import escape_rate_reading as et
from paper_repro.plotting import save_figure, subplots
from paper_repro.results import glue, save_claims, save_json, save_npz

cfg = er.make_config(profile, device=device, esc_lr=esc_lr, esc_max_steps=esc_max_steps,
                     noise_epochs=noise_epochs, stat_chains=stat_chains)
dev, CH, t_start = resolve_device(cfg.device), er.CHAPTER, time.time()
if dev.type == "cpu":
    torch.set_num_threads(1)  # small nets and 1-d chains: one thread is as fast, and robust on a shared CPU
print(cfg)

# %% [markdown]
# ## 1. Is the decoupling approximation good on a real network? (paper Fig. 1)
#
# First $N$ MNIST training images, label $+1$ for even and $-1$ for odd digits, MLP 784-100-100-1 (ReLU, Glorot),
# loss $\ell_\mu = (f_\mu - y_\mu)^2/2$, SGD with $\eta = 0.01$, $B = 100$. At several epochs we compare the
# spectrum of the exact matrix $\frac1N\sum_\mu \ell_\mu \nabla f_\mu \nabla f_\mu^\top$ with the decoupled
# $L\,\frac1N\sum_\mu \nabla f_\mu \nabla f_\mu^\top$. Both are $P\times P$ ($P \approx 9\cdot 10^4$), but their
# non-zero spectra are those of the $N\times N$ matrices $\sqrt{\ell}\,K\sqrt{\ell}/N$ and $L K/N$, with the
# empirical NTK $K_{\mu\nu} = \nabla f_\mu\cdot\nabla f_\nu$. For an MLP, $K$ factorises layer by layer
# ($\nabla_{W_l} f = \delta_l a_{l-1}^\top$), so one backward pass gives it (`escape_rate_nn.ntk_gram`, tested
# against the `torch.func` Jacobian). Beyond the picture we print two distances: the relative Frobenius error of the
# matrices and the mean $|\Delta\log_{10}\lambda|$ over the top 100 eigenvalues.

# %%
dec = enn.run_decoupling(cfg.dec_n_train, cfg.dec_widths, cfg.dec_lr, cfg.dec_batch_size, cfg.dec_epochs,
                         cfg.dec_n_spectrum, cfg.seed, dev)
fig, axes = subplots(1, len(dec), width=3.6)
for s, ax in zip(dec, np.atleast_1d(axes)):
    s.plot(ax)
save_figure(fig, CH, "fig1_decoupling_spectra");

# %%
for s in dec:
    print(f"epoch {s.epoch:>4}: L = {s.loss:.4f}   Frobenius error {s.frobenius_error:.3f}   "
          f"mean |dlog10 lambda| top 100 {s.log_spectrum_distance:.3f}, all {s.log_distance_all:.3f}   "
          f"lambda_1 ratio {s.top_ratio:.3f}")
save_npz(CH, "decoupling", **{f"exact_ep{s.epoch}": s.exact for s in dec}, **{f"dec_ep{s.epoch}": s.decoupled
                                                                             for s in dec})
save_json(CH, "decoupling_metrics", [{k: v for k, v in vars(s).items() if k not in ("exact", "decoupled")}
                                     for s in dec])
glue(**et.decoupling_text(cfg, dec))

# %% [markdown]
# **Reading (figure 1).** The *top* of the spectrum — the outliers that matter for escape — is what the theory
# needs. At epoch {glue:text}`dec_first_epoch` the top 100 eigenvalues differ on average by about
# {glue:text}`dec_first_top_pct:.0%` (mean log distance {glue:text}`dec_first_top:.3f`); at the later epochs by up
# to {glue:text}`dec_later_top_pct:.0%`, with the exact $\lambda_1$ off the decoupled one by {glue:text}`dec_bias`
# ({glue:text}`dec_bias_side` it; an exact $\lambda_1$ above the decoupled one means that samples with a large loss
# also have large $\nabla f_\mu$). The *bulk* {glue:text}`dec_bulk_word`: the whole-spectrum distance is
# {glue:text}`dec_bulk` at epochs {glue:text}`dec_epochs` (top 100: {glue:text}`dec_top`), and the Frobenius error
# of the matrices lies between {glue:text}`dec_frob_lo:.2f` and {glue:text}`dec_frob_hi:.2f` — a spread of the
# per-sample losses $\ell_\mu$ widens the exact spectrum, which no rescaling by $L$ can undo. Scorecard verdict for
# the large eigenvalues: **{glue:text}`dec_verdict`**; even where they agree, the decoupling is an approximation of
# the top of the spectrum, not an identity of the two matrices.
#
# ## 2. Noise strength is proportional to the loss (paper Fig. 2)
#
# The noise strength $\mathcal N = \frac1N\sum_\mu\|\nabla\ell_\mu\|^2 - \|\nabla L\|^2$ ($= B\,\mathrm{tr}\,\Sigma$) is
# measured every epoch on the whole training set, with SGD $B = 100$, $\eta = 0.1$, MSE on one-hot targets. The paper
# uses 3 hidden layers of 2000 units on Fashion-MNIST and a VGG-like CNN on CIFAR-10 (paper profile); the quick
# profile uses a narrower FC net on the first $10^4$ Fashion-MNIST images. Per-sample gradient norms of an MLP come
# from the same layer factorisation, $\|\nabla_{W_l}\ell_\mu\|^2 = \|\delta_\mu\|^2\|a_\mu\|^2$ (CNNs fall back
# to `torch.func`).

# %%
noise = [enn.run_noise_vs_loss(ds, arch, w, cfg.noise_n_train, cfg.noise_lr, cfg.noise_batch_size, cfg.noise_epochs,
                               cfg.seed, dev) for ds, arch, w in cfg.noise_runs]
fig, axes = subplots(len(noise), 2, width=4.4, squeeze=False)
for r, row in zip(noise, axes):
    r.plot(row)
save_figure(fig, CH, "fig2_noise_vs_loss");
for r in noise:
    print(f"{r.label}: late-training slope d log N / d log L = {r.slope:.2f} (paper: ~1), epochs >= {r.late_from}; "
          f"all epochs >= 1: {r.slope_all:.2f}; N/L grew x{(r.noise[-1] / r.loss[-1]) / (r.noise[1] / r.loss[1]):.2f}"
          f" from epoch 1 to {r.epochs[-1]}")
save_json(CH, "noise_vs_loss", noise)
glue(**et.noise_text(cfg, noise))

# %% [markdown]
# **Reading (figure 2).** In the first epoch $L$ drops by {glue:text}`noise_drop_loss` and $\mathcal N$ by
# {glue:text}`noise_drop_noise` orders of magnitude. Late in training our $\mathcal N$ falls
# {glue:text}`noise_pace` $L$: the late-training slope is {glue:text}`noise_slopes` against the paper's
# $\approx 1$, and $\mathcal N/L$ {glue:text}`noise_ratio_trend` (factor {glue:text}`noise_growth` from epoch 1 to
# the last). Since $\mathcal N \approx 2L\,\mathrm{tr}\,H$ under the decoupling, a changing ratio means the
# curvature $\mathrm{tr}\,H$ (the NTK trace) is still changing while the net learns features; proportionality needs
# it to settle, and a short run on a subset (the quick profile trains a 3×512 net for 50 epochs on $10^4$ images)
# may not reach that regime. Scorecard verdict on the slope of 1: **{glue:text}`noise_verdicts`** (the paper
# profile runs the 3×2000 net on all of Fashion-MNIST and the CNN on CIFAR-10).
#
# ## 3. Linear regression: where the decoupling is exact, and where it is not
#
# Take $f = \theta\cdot x$, $\ell_\mu = (\theta\cdot x_\mu - y_\mu)^2/2$, $N = 10^5$, $y$ Gaussian and independent
# of $x$, so $L^* \approx 1/2$ and $H \approx I$. The *exact* noise covariance of SGD is
# $[\frac1N\sum_\mu \nabla\ell_\mu\nabla\ell_\mu^\top - \nabla L\nabla L^\top]/B$. For $d = 1$ and unit-variance
# inputs it equals $[1 + (\mathbb E x^4 - 1)\theta^2]/B$ (with $\theta^* \approx 0$), while the decoupled one is
# $2L h/B = (1 + \theta^2)/B$:
#
# * Gaussian $x$ ($\mathbb E x^4 = 3$): $(1 + 2\theta^2)/B$ — the noise grows *twice as fast* as the theory assumes;
# * Rademacher $x = \pm1$: the matrix decoupling is exact ($x^2 = 1$), but the $-\nabla L\nabla L^\top$ term cancels the
#   $\theta^2$ part: the noise is the constant $1/B$ and SGD is Langevin dynamics in disguise;
# * "sparse" $x \in \{0, \pm\sqrt2\}$ ($\mathbb E x^4 = 2$): the full covariance equals $(2L/B) H$ exactly.
#
# The figure checks these three formulas on the sampled data sets.

# %%
fig = ep.fig_noise_variance(cfg.stat_n, cfg.seed)
save_figure(fig, CH, "fig3_linear_noise");

# %% [markdown]
# ## 4. Stationary law $P \propto L^{-\phi}$ (paper Fig. 3a)
#
# Many chains run in parallel from $\theta^*$ (one tensor op per step for all chains); after a burn-in we record
# $L$ periodically. For $d = 1$ the law $P(\theta)\propto L^{-\phi}$ implies
# $p(L) \propto L^{-\phi}(L - L^*)^{-1/2}$ on $[L^*, \infty)$, whose maximum-likelihood $\phi$ solves
# $\overline{\log(L/L^*)} = \psi(\phi) - \psi(\phi - 1/2)$ (`linear_sgd.fit_phi`). Five dynamics: SGD with the
# three input laws, the decoupled SDE itself ($\Sigma = 2LH/B$ exactly, Euler steps) and Langevin with constant
# noise at the matched temperature. "Euler-corrected" marks our own estimate of the discrete-time shift:
# matching the stationary variance of the discrete chain, $\phi \to \phi - B/2$.

# %%
stat = er.run_stationary(cfg, dev)
save_figure(ep.fig_stationary(stat), CH, "fig4_stationary_law");
print(f"{'dynamics':>10} {'inputs':>10} {'eta':>5} {'B':>3} {'phi theory':>10} {'Euler':>7} {'phi fit':>8}")
for r in stat.rows:
    print(f"{r['dynamics']:>10} {r['inputs']:>10} {r['lr']:>5} {r['batch_size']:>3} {r['phi_theory']:>10.2f} "
          f"{r['phi_discrete']:>7.2f} {r['phi_fit']:>8.2f}")

# %%
tails = stat.tail_probabilities(q=3.0)
print(f"P(L > 3 L*) at eta, B = {stat.show}: power law {tails['power_law']:.2e}, Arrhenius {tails['arrhenius']:.2e}")
for k, v in tails["measured"].items():
    print(f"  measured {k:>20}: {v:.2e}")
save_json(CH, "stationary", {"rows": stat.rows, "tails": tails})
glue(**et.stationary_text(cfg, stat, tails))

# %% [markdown]
# **Reading (figure 4 and the tables).** For $\eta \le 0.1$ the fitted $\phi$ of Gaussian-input SGD is within
# {glue:text}`stat_small_gap:.0%` of $1 + B/(\eta h^*)$ ({glue:text}`stat_small_side` it; scorecard verdict
# **{glue:text}`stat_verdict`**). At $B = 1$ the gap is {glue:text}`stat_gaps`: it {glue:text}`stat_gap_trend`
# with $\eta$, and at $\eta = 1$ the fit is {glue:text}`stat_eta1_ratio:.0%` of the theory — the paper, too,
# reports a deviation there. Two things the paper's figure does not show: (i) the Euler shift $B/2$ accounts for
# {glue:text}`stat_euler_share:.0%` of the gap at $\eta \le 0.1$, and the decoupled SDE, which *is* the paper's
# model, is on average {glue:text}`stat_sde_to_euler:.1%` from our Euler-corrected marks ($\phi - B/2$) and
# {glue:text}`stat_sde_to_theory:.1%` from the continuous-time line for $\eta \le 0.2$; what discretisation does not
# explain is the $1 + 2\theta^2$ noise of Gaussian inputs; (ii) the maximum-likelihood $\phi$ is dominated by the
# bulk: at each setting with $\eta \le 0.1$ the five dynamics, constant-noise Langevin and Rademacher SGD included,
# give fitted $\phi$ within {glue:text}`stat_spread:.0%` of each other. The tail is what separates them (right panel;
# measured $P(L > 3L^*)$ at {glue:text}`stat_show`, sorted: {glue:text}`stat_tail_order`). Constant noise should
# follow the Arrhenius (Gamma) law, {glue:text}`stat_tail_arrhenius:.1e`, loss-proportional noise (sparse-input SGD,
# decoupled SDE) the power law, {glue:text}`stat_tail_power:.1e`, and Gaussian-input SGD, whose noise grows faster
# still, an even heavier tail. The measured tails come out {glue:text}`stat_tail_ordered`; relative to its
# continuous-time law the constant-noise pair is at {glue:text}`stat_tail_const_ratio:.1f`× and the
# loss-proportional pair at {glue:text}`stat_tail_power_ratio:.1f`× — a ratio away from 1 is the discrete chain's
# own tail (discretisation again).
#
# ## 5. Escape time: power law versus Arrhenius (paper Fig. 3b)
#
# From $\theta^*$ we record the first time $t = \eta k$ at which $L(\theta_k) > cL^*$, for all thresholds $c$ in one
# run, over 100 runs, $N = 10^4$, $B = 1$, $d\in\{1,2,4\}$ (Gaussian $x$). Runs still inside at the step cap are
# censored, and the mean uses the exponential maximum-likelihood estimate (sum of observed times / number escaped).
# Theory: $t \propto c^{\,B/(\eta h^*) + 1 - d/2}$ ($= 11 - d/2$ at the paper's $\eta = 0.1$). At $\eta = 0.1$ the
# time to reach $c = 3$ is $\sim 10^6$ SGD steps per run, so the smoke and quick profiles use $\eta = 0.25$
# (theory slopes $5 - d/2$); the paper profile uses $\eta = 0.1$. Beside SGD, Langevin dynamics with constant noise
# $\Sigma = 2L^*H/B$ (the matched temperature) on the same valley, $d = 1$.

# %%
esc = er.run_escape(cfg, dev)
save_figure(ep.fig_escape(esc), CH, "fig5_escape_time");
for key, e in esc.runs.items():
    d = int(key.split("/")[1])
    ref = "Arrhenius: local slope = c B/(eta h*)" if key.startswith("lang") else f"theory {esc.theory[d]:.2f}"
    local = " ".join(f"{s:.1f}" for s in esc.local_slopes(key))
    print(f"{key:>11}: fitted slope (upper half of c) {esc.slope(key):.2f} ({ref}); local slopes {local}; "
          f"escaped {e.escaped.min():.0%}..{e.escaped.max():.0%}")
save_npz(CH, "escape_times", **{k.replace("/", "_d"): e.times for k, e in esc.runs.items()},
         **{f"c_{k.replace('/', '_d')}": e.c for k, e in esc.runs.items()})
glue(**et.escape_text(cfg, esc))

# %% [markdown]
# **Reading (figure 5).** The contrast the paper is about: the Langevin local log-log slope
# {glue:text}`esc_lang_trend` with $c$ (×{glue:text}`esc_lang_growth:.2f` from the first to the last interval;
# Arrhenius is the straight line on the semi-log panel), while the $d = 1$ SGD local slopes
# {glue:text}`esc_sgd1_trend` (×{glue:text}`esc_sgd1_growth:.2f`); scorecard verdict on this contrast:
# **{glue:text}`esc_lang_verdict`**. At small $c$ the two cannot be told apart (the $\Delta L \ll L^*$ limit); the
# theory separates them only once $\Delta L \gtrsim L^*$, i.e. $c \gtrsim 2$. The exponent itself: for $c \le 3$ the
# $d = 1$ local slopes are {glue:text}`esc_d1_low` against the theory value {glue:text}`esc_theory_d1:.2f`; the
# fitted slopes {glue:text}`esc_slopes` at $d$ = {glue:text}`esc_dims` (theory {glue:text}`esc_theories`)
# {glue:text}`esc_d_trend` with $d$, where $1 - d/2$ predicts a decrease. At large $c$ Gaussian-input SGD has a true
# noise $(1 + 2\theta^2)/B$, whose escape exponent is our asymptote $B/(2\eta h^*) + 1/2 =$
# {glue:text}`esc_asymptote:.2f` (dash-dotted); the last $d = 1$ local slope is {glue:text}`esc_d1_last:.2f`, and the
# fitted upper-range slopes differ from the theory by {glue:text}`esc_dev_lo:+.0%` to
# {glue:text}`esc_dev_hi:+.0%` across $d$ (scorecard: {glue:text}`esc_sgd_verdicts`). The decoupled SDE, the paper's
# own model, is the control: its fitted slope is {glue:text}`esc_sde_slope:.2f` against the theory
# {glue:text}`esc_theory_d1:.2f` (scorecard: **{glue:text}`esc_sde_verdict`**).
#
# ## Scorecard

# %%
claims = ep.claims(cfg, dec, noise, stat, esc)
save_claims(CH, claims)
for c in claims:
    print(f"[{c.verdict:>14}] {c.id}: ours {c.ours} | paper {c.paper_value}")
print(f"chapter wall time {time.time() - t_start:.0f} s (profile {cfg.profile}, device {dev})")

# %% [markdown]
# ## Closing note: every exponent beside its theory value

# %%
g = [r for r in stat.rows if r["dynamics"] == "sgd" and r["inputs"] == "gaussian"]
print("stationary phi (Gaussian-input SGD): " + "; ".join(
    f"eta={r['lr']}, B={r['batch_size']}: {r['phi_fit']:.2f} vs {r['phi_theory']:.2f}" for r in g))
slopes = [f"{k}: {esc.slope(k):.2f} vs {esc.theory[int(k.split('/')[1])]:.2f}" for k in esc.runs if "langevin" not in k]
print("escape slopes: " + "; ".join(slopes))
if "sgd/1" in esc.runs:
    print(f"  d = 1 Gaussian-input SGD, last local slope {esc.local_slopes('sgd/1')[-1]:.2f} vs exact-noise "
          f"asymptote {esc.exact_noise_d1:.2f}")
print("noise-loss slopes: " + "; ".join(f"{r.label}: {r.slope:.2f} vs 1" for r in noise))
print(f"decoupling: mean |dlog10 lambda| {max(s.log_spectrum_distance for s in dec):.3f} vs 0 (equal spectra)")

# %% [markdown]
# ## Explore
#
# Left: the stationary law of Gaussian-input SGD for a grid of $\eta$ and $B$ (each frame runs 2000 chains in about a
# second, so with a live kernel the sliders re-run it). Right: the distribution of escape times at one threshold
# $c$ for each $d$, from the runs above; a straight line on this semi-log plot means a memoryless (exponential)
# escape, the Kramers picture both theories share. The live controls (running kernel only) re-run 100 SGD and
# Langevin escapes for any $d$, $c$ and $\eta$ (capped at $2\cdot10^4$ steps, so large $c$ at small $\eta$ is censored).

# %%
import ipywidgets as W  # noqa: E402

from paper_repro.widgets import explorer  # noqa: E402

stat_grid = {"lr": [0.1, 0.25, 0.5, 1.0], "batch_size": [1, 2, 4]} if cfg.profile != "smoke" else \
    {"lr": [0.25, 1.0], "batch_size": [1]}
esc_grid = {"d": list(cfg.esc_dims), "c": [float(c) for c in cfg.esc_c][:: 1 if cfg.profile != "smoke" else 2]}
W.HBox([explorer(ep.render_stationary, stat_grid, title="Stationary law",
                 live_controls={"lr": (0.05, 1.5, 0.05), "batch_size": (1, 8, 1)}),
        explorer(lambda d, c, lr=None: ep.render_escape(esc, d, c, lr), esc_grid, title="Escape-time distribution",
                 live_controls={"d": [1, 2, 4], "c": (1.25, 5.0, 0.25), "lr": (0.1, 1.0, 0.05)})])

# %% [markdown]
# ## Exercises
#
# 1. **Predict, then change one parameter.** Double the batch size in the stationary-law experiment
#    (`stat_settings`). How should $\phi$ change, and what happens to the tail probability $P(L > 3L^*)$?

# %% [markdown]
# ```{admonition} Solution
# :class: dropdown
# $\phi = 1 + B/(\eta h^*)$ grows linearly with $B$ (e.g. $\eta = 0.5$: $\phi$ from 3 to 5), so the law concentrates
# near $L^*$ and the power-law tail $P(L > 3L^*) = \int_3^\infty p(x)\,dx$, which decays roughly like
# $3^{-(\phi - 1/2)}$, drops by about an order of magnitude (from $2.5\cdot10^{-2}$ to $2.2\cdot10^{-3}$). Run
# `er.run_stationary(er.make_config("smoke", stat_settings=((0.5, 2),), stat_show=(0.5, 2)))`
# and compare `tail_probabilities()` with the $B = 1$ case.
# ```

# %% [markdown]
# 2. **Which noise makes the power law?** Section 3 shows Rademacher inputs give *constant* SGD noise. Predict the
#    escape-time curve of Rademacher-input SGD at $d = 1$, then check it with
#    `linear_sgd.escape_times(linear_sgd.make_problem(10_000, 1, "rademacher"), 0.25, 1, c, 100, 100_000)`.

# %% [markdown]
# ```{admonition} Solution
# :class: dropdown
# With $x = \pm1$ (and $B = 1$) the update is $\theta \leftarrow (1-\eta)\theta + \eta x y$: an AR(1) process
# with additive noise, i.e. discretised Langevin dynamics at the temperature $T = \eta h^* L^*/B$. Its stationary law is
# Gaussian and its escape time grows like $e^{(c-1)B/(\eta h^*)}$ (Arrhenius): the curve bends upward on log-log axes
# like the Langevin one. The power law needs the noise to grow with the loss, which here requires $\mathbb E x^4 > 1$ — the
# per-sample curvature $x^2$ must fluctuate.
# ```

# %% [markdown]
# 3. **Extend: effective dimension.** The theory says sharp directions that are *outliers* ($n$ of them) lower the
#    exponent by $n/2$. Build a $d = 4$ problem where only one direction is sharp (scale three input coordinates by
#    0.1) and measure the escape-time slope. Is $n = 1$ or $n = 4$ the right count?

# %% [markdown]
# ```{admonition} Solution
# :class: dropdown
# Make a `LinearProblem` by hand: `p = linear_sgd.make_problem(10_000, 4)`, then build
# `x = p.x * torch.tensor([1, .1, .1, .1])` and recompute `hessian`, `theta_star` and `loss_star` as in `make_problem`
# (`dataclasses.replace`). The flat directions hardly move the loss, so escape is driven by the sharp one. When we
# ran it ($\eta = 0.25$, $B = 1$, 100 runs) the local slopes for $c \le 3$ were 4.35 and 4.20, close to the $n = 1$
# value $B/(\eta h^*) + 1/2 = 4.5$ and far from the $n = 4$ value 3.0; beyond $c = 3$ they fall (2.0 at
# $c = 4$–$5$), the heavy Gaussian-input tail of section 4 again. The formula counts only outlier eigenvalues,
# which is why SGD prefers minima with few sharp directions (low effective dimension).
# ```

# %% [markdown]
# 4. **Extend: the decoupled SDE.** Add `"decoupled"` dynamics to `run_escape` (the SDE with $\Sigma = 2LH/B$ exactly)
#    and compare its slopes with Gaussian-input SGD. Which is closer to the theory, and why?

# %% [markdown]
# ```{admonition} Solution
# :class: dropdown
# The decoupled SDE is the paper's model, so up to discretisation (the Euler shift $-B/2$ of section 4 also shifts
# the escape exponent) its slopes follow $B/(\eta h^*) + 1 - d/2$. Gaussian-input SGD escapes faster at large $c$
# because its true noise is $(1 + 2\theta^2)/B$, and in the tail the extra $\theta^2$ halves the exponent.
# ```
