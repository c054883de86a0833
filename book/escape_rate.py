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
# *Reproducing {cite}`mori2022powerlaw` (equation, section and figure numbers of the ICLR-2022 version; no code
# was released).* For the mean-square loss the SGD noise is roughly proportional to the loss, so SGD escapes a
# minimum with a rate that is a **power** of the loss ratio, not Arrhenius-exponential. We check the decoupling that
# gives the proportionality on a real network, the proportionality itself, and the stationary law and escape times
# on linear regression, where every prediction can be computed exactly, including the finite-barrier escape times
# of the paper's own model, which the verdicts use as their target.
#
# ```{glue:} verdict_box
# ```
#
# Near a minimum $\theta^*$ the minibatch-noise covariance is
#
# $$\Sigma(\theta) \approx \frac{2L(\theta)}{B} H(\theta^*) ,$$
#
# because of the **decoupling approximation**
# $\frac1N\sum_\mu \ell_\mu \nabla f_\mu \nabla f_\mu^\top \approx L(\theta)\,\frac1N\sum_\mu \nabla f_\mu \nabla f_\mu^\top$
# (Eq. 7). SGD is then $d\theta = -\nabla L\,dt + \sqrt{(2\eta L/B) H^*}\,dW$ (Eq. 13); after the time change
# $d\tau = L\,dt$ the noise is additive on the landscape $\log L$. Three consequences follow:
#
# * the stationary law is a power of the loss, $P(\theta) \propto L(\theta)^{-\phi}$ with $\phi = 1 + B/(\eta h^*)$
#   (Eq. 18);
# * the escape rate over a saddle $\theta^s$ is a **power law** in the loss ratio,
#   $\kappa \propto [L(\theta^s)/L(\theta^*)]^{-(B/(\eta h^*) + 1 - n/2)}$ (Eq. 17; $h^*$: typical outlier Hessian
#   eigenvalue, $n$: number of outliers), not the Arrhenius law $e^{-\Delta L/T}$ of constant-noise Langevin
#   dynamics. Eq. (17) is a large-barrier (Kramers) limit: at the barriers one can simulate the paper's own model
#   escapes with a smaller slope, which we compute exactly;
# * a minimum is stable only when $n < n_c = 2(B/(\eta h^*) + 1)$ (Eq. 19).
#
# Every rule that turns a measurement into a verdict is also run on data drawn from the paper's own model (it must
# say "reproduced") and on data from the stated alternative (it must say "not reproduced"); the controls table
# near the end lists both.

# %%
# On Colab or a bare kernel this installs the book's package; where it is installed it does nothing.
import importlib.util, subprocess, sys
if importlib.util.find_spec("paper_repro") is None:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "paper_repro @ git+https://github.com/paper-repro/paper_repro"], check=True)

# %% tags=["parameters"]
profile: str = "quick"  # smoke | quick | paper
device: str = "auto"  # auto | cpu | cuda
shrink: bool = False  # paper-shaped tiny run: the profile's grids and architectures at minimal size (tests)
executor: str = "inline"  # where sweeps run: inline | local | slurm
slurm_partition: str = ""  # Slurm partition (empty: the cluster default)
gpus_per_node: int = 0  # GPUs per Slurm job
timeout_min: int = 600  # Slurm job time limit in minutes
array_parallelism: int = 16  # Slurm jobs running at once
esc_lr: "Optional[float]" = None  # learning rate of the first-passage runs (None: preset, 0.1 as in the paper)
esc_max_steps: "Optional[int]" = None  # SGD steps per first-passage run before it counts as censored (None: preset)
noise_epochs: "Optional[int]" = None  # epochs of the noise-strength runs (None: profile preset)
stat_chains: "Optional[int]" = None  # parallel chains per stationary-law setting (None: profile preset)

# %% tags=["remove-input"]
import time

import torch

from paper_repro.core.config import resolve_device
from paper_repro.core.fetch import fetch_all
from paper_repro.core.results import glue, output_dir, record_path, save_claims, save_json, save_npz
from paper_repro.experiments import escape_rate as er
from paper_repro.experiments.escape_rate import claims as ec, controls as ectl, decoupling as ed, figures as ef
from paper_repro.experiments.escape_rate import figures_escape as efe, noise_strength as ns, reading as et
from paper_repro.experiments.escape_rate import run as erun
from paper_repro.pipeline.sweep import SweepOptions, run_sweep
from paper_repro.present.display import show_params, show_table
from paper_repro.present.plotting import save_figure
from paper_repro.present.scorecard import show_verdict_box

# %% tags=["remove-input"]
cfg = er.make_config(profile, device=device, esc_lr=esc_lr, esc_max_steps=esc_max_steps, noise_epochs=noise_epochs,
                     stat_chains=stat_chains)
cfg = er.shrink(cfg) if shrink else cfg
opts = SweepOptions(executor=executor, slurm_partition=slurm_partition, gpus_per_node=gpus_per_node,
                    timeout_min=timeout_min, array_parallelism=array_parallelism)
fetch_all(er.datasets(cfg))
dev, CH, t_start = resolve_device(cfg.device), er.CHAPTER, time.time()
torch.set_num_threads(1) if dev.type == "cpu" else None  # small nets: one thread is as fast on a shared CPU
show_params(cfg, ["profile", "noise_runs", "noise_n_train", "noise_epochs", "stat_lrs", "stat_batches",
                  "stat_chains", "esc_lr", "esc_dims", "esc_c", "esc_runs", "esc_max_steps", "nc_lr", "nc_dims"])

# %% [markdown]
# ## 1. Is the decoupling approximation good on a real network? (paper Fig. 1)
#
# The first $N =$ {glue:text}`dec_n_train` MNIST training images (paper: $10^4$), label $+1$ for even and $-1$ for
# odd digits, MLP 784-100-100-1 (ReLU, Glorot), loss $\ell_\mu = (f_\mu - y_\mu)^2/2$, SGD with $\eta = 0.01$,
# $B = 100$ (Sec. 5.1); the spectra use the first {glue:text}`dec_n_spectrum` of the images (paper: all of them).
# At several epochs we compare the
# spectrum of the exact matrix $\frac1N\sum_\mu \ell_\mu \nabla f_\mu \nabla f_\mu^\top$ with the decoupled
# $L\,\frac1N\sum_\mu \nabla f_\mu \nabla f_\mu^\top$. Their non-zero spectra are those of the $N\times N$ matrices
# $\sqrt{\ell}\,K\sqrt{\ell}/N$ and $L K/N$ with the empirical NTK $K_{\mu\nu} = \nabla f_\mu\cdot\nabla f_\nu$, which
# for an MLP factorises layer by layer (one backward pass; tested against the autodiff Jacobian).
#
# The paper says the two histograms are "statistically similar" except for very small eigenvalues, with no number.
# We compare the **whole distributions** of $\log_{10}\lambda$ above {glue:text}`dec_floor` $\lambda_1$ by the
# Kolmogorov-Smirnov distance, on random halves of the samples, and divide it by the distance between the exact
# spectra of two disjoint halves (how far two independent samples of the same matrix lie apart). The rule: a ratio
# up to 2 is "reproduced", up to 4 "partly"; an epoch counts only where the rule separates its two controls below
# (losses uncorrelated with the gradients, and losses tied to them), else it is "inconclusive". The top-100 eigenvalues paired rank by rank are a stricter test, reported beyond
# the paper.

# %%
dec = ed.run_decoupling(cfg.dec_n_train, cfg.dec_widths, cfg.dec_lr, cfg.dec_batch_size, cfg.dec_epochs,
                        cfg.dec_n_spectrum, cfg.seed, dev, cfg.dec_floor)
record_path(CH, "mlp", "mnist", "decoupling_spectra")
save_figure(ef.fig_decoupling(dec), CH, "fig1_decoupling_spectra",
            caption="Eigenvalue histograms of the exact and the decoupled noise matrix at each epoch (MNIST parity).")
save_npz(CH, "decoupling", **{f"exact_ep{s.epoch}": s.exact for s in dec},
         **{f"dec_ep{s.epoch}": s.decoupled for s in dec})
glue(**et.decoupling_text(cfg, dec))

# %% [markdown]
# **Reading (figure 1).** Exact (filled) and decoupled (outline) histograms of $\log_{10}\lambda$ at epochs
# {glue:text}`dec_epochs`; the dotted line is the floor. The KS distance between them, in units of the split-half
# null, is {glue:text}`dec_ks`; per epoch {glue:text}`dec_epoch_verdicts`, overall **{glue:text}`dec_verdict`**.
# Two controls on the same halves: with the losses permuted over the samples, so that $\ell_\mu$ and $\nabla f_\mu$ are exactly uncorrelated as Eq. (7)
# assumes, the ratio is {glue:text}`dec_ks_shuffled`; with the largest losses given to the samples of largest
# $\|\nabla f_\mu\|^2$, it is {glue:text}`dec_ks_sorted`. The spread of the per-sample losses widens the exact
# spectrum even when they are uncorrelated with the gradients (the long left tails, and a shift above the floor);
# where the two controls get the same verdict, the whole-distribution test cannot tell the decoupling from its
# alternative at this $N$. Rank by rank, the top 100 eigenvalues differ on average by {glue:text}`dec_top` (verdict beyond the paper: **{glue:text}`dec_top_verdict`**),
# and the exact $\lambda_1$ is off the decoupled one by {glue:text}`dec_bias`.
#
# ## 2. Noise strength is proportional to the loss (paper Fig. 2)
#
# The noise strength $\mathcal N = \frac1N\sum_\mu\|\nabla\ell_\mu\|^2 - \|\nabla L\|^2$ (Eq. 24, $= B\,\mathrm{tr}\,\Sigma$
# for $B \ll N$) is computed exactly from per-sample gradients on the whole training set, with the paper's set-up
# (Sec. 5.2): loss $\ell_\mu = \frac12\|f(x_\mu) - y_\mu\|^2$ on one-hot targets, Glorot initialisation, SGD with
# $B = 100$ and $\eta = 0.1$. The paper trains 3 hidden layers of 2000 units on Fashion-MNIST and shows its slope-1
# line for a VGG-like CNN on CIFAR-10 (both in the paper profile); this run trains {glue:text}`noise_runs_text`.
# The claim is "roughly proportional at a later stage", so the slope of $\log\mathcal N$ against $\log L$ is fitted
# over the **last decade of $L$ reached**; successive epochs are correlated, so its error is the larger of a
# moving-block bootstrap over epochs and the least-squares error inflated for the residuals' lag-1
# autocorrelation. Rule: slope $\pm 2$ errors inside $1 \pm 0.2$ (so $\mathcal N/L$ changes by at most
# $10^{0.2} \approx 1.6\times$ over the decade) is "reproduced", inside $1 \pm 0.4$ "partly"; it only counts when
# $L$ fell at least 1.5 decades after the first epoch.

# %%
runs = ns.noise_runs(cfg, device)
records = run_sweep(ns.noise_run, runs, output_dir(CH) / "sweeps" / "noise_vs_loss", progress=False,
                    **opts.run_kwargs())
noise = [ns.from_record(r, rec) for r, rec in zip(runs, records)]
for r in runs:
    record_path(CH, er.config.ARCH_NAMES[r.arch], r.dataset, "noise_vs_loss")
save_figure(ef.fig_noise(noise), CH, "fig2_noise_vs_loss",
            caption="Training loss and noise strength against epoch, and noise strength against loss with slope 1.")
save_json(CH, "noise_vs_loss", noise)
glue(**et.noise_text(cfg, noise), noise_runs_text=et.noise_runs_text(cfg))

# %% [markdown]
# **Reading (figure 2).** Left: $L$ and $\mathcal N$ (scaled) against epoch; $L$ falls {glue:text}`noise_fall`
# decades after the first epoch. Right: $\mathcal N$ against $L$; over the last decade of $L$
# ({glue:text}`noise_window`) the fitted slope is {glue:text}`noise_slopes` against the paper's 1 (dashed), and
# $\mathcal N/L$ changes by a factor {glue:text}`noise_growth` from epoch 1 to the end. Since
# $\mathcal N \approx 2L\,\mathrm{tr}\,H$ under the decoupling, a slope above 1 means that the curvature still falls
# as the net fits the data. Verdict: **{glue:text}`noise_verdicts`**.
#
# ## 3. Linear regression: where the decoupling is exact, and where it is not
#
# Take $f = \theta\cdot x$, $\ell_\mu = (\theta\cdot x_\mu - y_\mu)^2/2$, $y$ Gaussian and independent of $x$, so
# $L^* \approx 1/2$ and $H \approx I$ (Sec. 5.3). The *exact* noise covariance of SGD is
# $[\frac1N\sum_\mu \nabla\ell_\mu\nabla\ell_\mu^\top - \nabla L\nabla L^\top]/B$ (Eq. 8). For $d = 1$ and
# unit-variance inputs it equals $[1 + (\mathbb E x^4 - 1)\theta^2]/B$ (with $\theta^* \approx 0$), while the
# decoupled one is $2Lh/B = (1 + \theta^2)/B$:
#
# * Gaussian $x$ ($\mathbb E x^4 = 3$): $(1 + 2\theta^2)/B$, growing *twice as fast* as the theory assumes;
# * Rademacher $x = \pm1$: the per-sample Hessian $x^2 = 1$ is exactly $H$, so the *matrix* decoupling (Eq. 7) is
#   exact, but the $-\nabla L\nabla L^\top$ term of Eq. (8), which the paper drops, cancels the $\theta^2$ part: the
#   noise is the constant $1/B$ and SGD is Langevin dynamics in disguise (in $d > 1$ it is neither constant nor
#   proportional to $L$: $(1 + |u|^2)I + uu^\top - 2\,\mathrm{diag}(u\circ u)$);
# * "sparse" $x \in \{0, \pm\sqrt2\}$ ($\mathbb E x^4 = 2$): the full covariance equals $(2L/B) H$ exactly in $d = 1$.
#   In $d > 1$ no input law with independent coordinates does this, so the decoupled SDE is the only exact model
#   of Eq. (6) there.

# %%
save_figure(ef.fig_noise_variance(cfg.stat_n, cfg.seed), CH, "fig3_linear_noise",
            caption="Exact SGD noise variance against θ for three input laws, beside the decoupled 2L(θ)h*.")

# %% [markdown]
# **Reading (figure 3).** Each solid line is the exact $B\,\Sigma(\theta)$ computed on the data set: Gaussian
# inputs follow $1 + 2\theta^2$ (dotted), sparse inputs the decoupled $2L(\theta)h^*$ (dashed), and Rademacher
# inputs stay flat at 1, which is constant noise. This is the noise law each simulation below feels.
#
# ## 4. Stationary law $P \propto L^{-\phi}$: $\phi$ against $B$ at fixed $\eta$ (paper Fig. 3a)
#
# The paper plots $\phi$ against $B$ at three fixed learning rates but names only the largest, $\eta = 1$, where
# $\phi$ "slightly deviates" from $1 + B/(\eta h^*)$; the other learning rates and the batch sizes
# ({glue:text}`stat_grid`) are our choice, and their rows are shown beyond the paper. Chains run in parallel from
# $\theta^*$ ($d = 1$, $N = 10^5$); after a burn-in $L$ is recorded every {glue:text}`stat_every` steps. For $d = 1$
# the law $P(\theta)\propto L^{-\phi}$ implies $p(L) \propto L^{-\phi}(L - L^*)^{-1/2}$, whose maximum-likelihood
# $\phi$ solves $\overline{\log(L/L^*)} = \psi(\phi) - \psi(\phi - 1/2)$; its error comes from resampling chains.
#
# Beside the continuous-time prediction (dashed) we draw the **discrete chain's own prediction (derived here,
# dotted)**. SGD here is $u' = (1 - \eta a)u + \eta b$ with $a = \frac1B\sum_{\mu\in B} x_\mu^2$, so its stationary
# variance is exactly $\mathbb E u^2 = \eta\,\mathbb E b^2 / (2h - \eta\,\mathbb E a^2)$, and the $L^{-\phi}$ law with
# that variance has $\phi = 3/2 + L^*/(h^*\mathbb E u^2)$. For Gaussian $x$, $h^* = 1$, $L^* = 1/2$:
# $\mathbb E a^2 = 1 + 2/B$, $\mathbb E b^2 = 1/B$, hence $\phi_{\rm chain} = B/\eta + 1/2 - B/2$. **At $\eta h^* = 1$
# this is $(B + 1)/2$, exactly half of $1 + B/(\eta h^*)$ for every $B$** (the contraction $1 - \eta h$ vanishes).
# Where $\eta\,\mathbb E a^2 \ge 2h$ the chain has no finite variance; its tail is a Kesten power law,
# $P(|u| > t) \sim t^{-\alpha}$ with $\mathbb E|1 - \eta a|^\alpha = 1$, i.e. $\phi = (\alpha + 1)/2$.

# %%
stat = erun.run_stationary(cfg)
for dyn, inp in er.config.STAT_VARIANTS:
    record_path(CH, f"linear_{dyn}", f"synthetic_{inp}", "stationary_phi")
save_figure(ef.fig_phi_vs_batch(stat), CH, "fig4_phi_vs_batch",
            caption="Fitted stationary exponent φ against batch size at each learning rate, with Eq. (18) and the "
            "discrete chain's prediction.")
tails = stat.tail_probabilities(q=3.0)
save_json(CH, "stationary", {"rows": stat.rows, "tails": tails})
glue(**et.stationary_text(cfg, stat, tails))

# %% [markdown]
# **Reading (figure 4).** At $\eta = 1$, the one learning rate the paper names: {glue:text}`stat_eta1`. The fitted
# $\phi$ follows the chain's algebra, about half of Eq. (18), not a slight deviation (verdict
# **{glue:text}`stat_eta1_verdict`**; rule: $|\phi_{\rm fit}/\phi_{\rm theory} - 1| \pm 2$ errors within 0.2 is
# "reproduced", within 0.35 "partly"). Either the paper's figure shows a factor-2 gap it calls slight, or its setting
# differed; we cannot tell from the text. At the other learning rates, where the chain has a finite variance, the
# fitted $\phi$ lies on average {glue:text}`stat_gap_theory:.1%` from $1 + B/(\eta h^*)$ and
# {glue:text}`stat_gap_chain:.1%` from the chain's prediction (beyond the paper: **{glue:text}`stat_verdict`**;
# against the chain: **{glue:text}`stat_chain_verdict`**, approximate by construction since the chain's law is not
# exactly $L^{-\phi}$). At $\eta = 0.1$ and $B \ge 2$ the law is nearly Gaussian ($\phi \ge 20$), so the fit measures
# the variance rather than the power law. No finite variance at {glue:text}`stat_infinite`; there the fit against
# the Kesten tail reads {glue:text}`stat_kesten`.

# %%
save_figure(ef.fig_stationary_tail(stat), CH, "fig5_stationary_tail",
            caption="Density of L/L* − 1 for five noise models at one setting, with the power law and the "
            "Arrhenius law.")

# %% [markdown]
# **Reading (figure 5).** The maximum-likelihood $\phi$ is dominated by the bulk; the tail separates the noise
# models. At {glue:text}`stat_show` the measured $P(L > 3L^*)$, sorted: {glue:text}`stat_tail_order`; the
# Arrhenius (Gamma) law gives {glue:text}`stat_tail_arrhenius:.1e` and the power law
# {glue:text}`stat_tail_power:.1e`. The constant-noise pair (Rademacher SGD and Langevin) falls off exponentially,
# like the Arrhenius law (dashed) at a somewhat higher temperature (steps of $\eta$ inflate the stationary variance by
# $2/(2 - \eta)$, derived here), and the decoupled SDE like $L^{-\phi}$ (solid). Sparse-input SGD does not follow the power
# law at this $\eta$: an active step has $1 - \eta x^2 = 0$, so it resets $u$ to $\eta x r^*$, a Gaussian, and the tail
# is exponential at twice the Arrhenius temperature; its covariance is loss-proportional, its law is not.
# Gaussian-input SGD lies above both.
#
# ## 5. First-passage time: power law versus Arrhenius (paper Fig. 3b)
#
# From $\theta^*$ we record the first time $t = \eta k$ at which $L(\theta_k) > cL^*$, for the thresholds
# $c =$ {glue:text}`esc_c` in one run, over {glue:text}`esc_runs` runs, $N = 10^4$, $B = 1$,
# $\eta =$ {glue:text}`esc_lr` (the paper's settings, Sec. 5.3); the paper does not state its $d$ values or its $c$
# range, we use $d \in \{1, 2, 4\}$. Runs still below $cL^*$ after {glue:text}`esc_cap` steps are censored; the mean
# uses the censored-data (exponential) maximum-likelihood estimate, and each slope of $\log t_p$ against $\log c$
# is fitted over the thresholds where at most 10 % of the runs are censored. Its error is the larger of a bootstrap
# over runs and the spread of the slopes of {glue:text}`esc_draws` independent data sets $(x, y)$ that share the runs
# (sd / $\sqrt{k}$): runs on one data set are not independent replications, and a verdict must not hang on one draw.
#
# **What the slopes are judged against.** Eq. (17)'s exponent $B/(\eta h^*) + 1 - n/2$ is a large-barrier limit;
# at the thresholds one can simulate, the paper's own model, the decoupled SDE (Eq. 13), escapes with a somewhat
# smaller slope. We compute that finite-$c$ slope exactly: the radial part $\rho$ of the SDE is a one-dimensional
# diffusion with drift $-\rho + (d-1)D/\rho$ and diffusion $D = \frac{\eta h^*}{2B}(1 + \rho^2)$ (in units where
# $L = L^*(1 + \rho^2)$), and its mean first-passage time to $\rho_c = \sqrt{c - 1}$ is the quadrature
# $T = \int_0^{\rho_c} s(y)\int_0^y m(z)\,dz\,dy$ with scale density $s$ and speed density $m = 1/(Ds)$ (derived
# here; tested against a direct simulation). Each SGD slope is judged against the decoupled SDE's slope over the same
# thresholds, with the constant-noise Langevin slope as the alternative (partly: within 20 %). On the same runs we
# also simulate the decoupled SDE and Langevin dynamics with steps of $\eta$: they are the positive and negative
# controls of this rule on real simulations.

# %%
esc = erun.run_escape(cfg)
for key in esc.runs:
    record_path(CH, f"linear_{key.split('/')[0]}", f"synthetic_{key.split('/')[1]}", "first_passage")
save_figure(efe.fig_escape(esc), CH, "fig6_escape_time",
            caption="Mean first-passage time against the threshold c per dimension: simulations and exact curves.")
save_npz(CH, "escape_times", **{k.replace("/", "_"): e.times for k, e in esc.runs.items()})
glue(**et.escape_text(cfg, esc), esc_draws=cfg.esc_draws)

# %% [markdown]
# **Reading (figure 6).** Markers are simulations (closed: at most 10 % censored), lines the exact mean first-passage
# times of three continuous SDEs with no fitted constant: the decoupled SDE (black), the exact Gaussian-input
# covariance (green dotted) and Langevin (grey dashed); the dash-dotted segment has Eq. (17)'s slope. The simulations
# with steps of $\eta$ lie above the continuous curves by a roughly constant factor, because a path looked at only
# every step crosses a threshold later than a continuous one; slopes, which the verdicts use, move by a few per cent
# only, enough for the simulated decoupled SDE to land at "partly" where its errors are small. Fit windows:
# {glue:text}`esc_windows`. Slopes against the decoupled SDE's exact slope over the same window: Gaussian-input
# SGD {glue:text}`esc_sgd_all` (verdicts **{glue:text}`esc_sgd_verdicts`**); the decoupled SDE simulated with steps
# of $\eta$ (positive control) {glue:text}`esc_dec_all` (**{glue:text}`esc_dec_verdicts`**). Langevin against its own
# exact slope: {glue:text}`esc_lang_all`, and judged by the rule against the decoupled SDE
# **{glue:text}`esc_lang_verdicts`** (negative control). Eq. (17)'s asymptotes are {glue:text}`esc_asym`; the SGD
# slopes are {glue:text}`esc_sgd_vs_asym` times them. Where SGD lands near the asymptote while the paper's own model
# does not, the agreement is not evidence for the mechanism: figure 7 shows how the local slopes get there.
# The verdicts are against the finite-$c$ slope of the paper's own model, not against the dashed lines of Eq. (17):
# judged against those lines, a slope can pass while the model behind them fails, as the ratios above show.
# The paper's Fig. 3b itself could not be read (its text says the data agree with the dashed lines of Eq. 17); at
# its stated settings our reconstruction predicts visible deviations from those lines.
#
# Gaussian-input SGD does not follow even the SDE with its exact covariance: its update
# $u' = (1 - \eta x^2)u + \eta x r^*$ has $|1 - \eta x^2| \le 1$ unless $x^2 > 2/\eta$, so the loss-dependent part of
# its noise almost only contracts, and at $d = 1$ it escapes far more slowly than either SDE. Rademacher-input SGD at
# $d = 1$ has constant noise and is judged against Langevin, with the decoupled slope as the alternative (derived
# here, beyond the paper): {glue:text}`esc_rad`.

# %%
save_figure(efe.fig_local_slopes(esc), CH, "fig7_local_slopes",
            caption="Local slopes of log mean first-passage time against log c, with the exact local slopes.")
glue(**et.local_text(esc))

# %% [markdown]
# **Reading (figure 7).** Local slopes $d\log t_p/d\log c$ between neighbouring thresholds inside each window. The
# decoupled SDE's exact local slope (black) rises slowly towards Eq. (17)'s asymptote (dash-dotted), while Langevin's
# (grey dashed) keeps growing, the mark of the Arrhenius law. The last SGD local slope inside each window, against
# the two exact ones over the same thresholds: {glue:text}`esc_local_last`. With 100 runs a mean has about a 10 %
# error, so single local slopes are noisy; the fitted slopes above carry the verdicts.
#
# ## 6. The critical effective dimension (Eq. 19)
#
# Eq. (19) says that a minimum with $n \ge n_c = 2(B/(\eta h^*) + 1)$ outlier directions is unstable. In the linear
# problem this is exact for the decoupled SDE: with $L = L^*(1 + \rho^2)$, Itô's formula gives
# $d\log L/dt \to \frac{\eta h^*}{B}(d - n_c)$ at large $L$ (derived here), so below $n_c$ the loss returns to the
# minimum and above it runs away. We simulate the SDE with fine Euler-Maruyama steps at
# $\eta h^*/B =$ {glue:text}`nc_eps` ($n_c =$ {glue:text}`nc_value`) at $d =$ {glue:text}`nc_dims`: first-passage
# times from the minimum, and the drift of $\log L$ from $L = 100L^*$. Rule: the drift is negative by 2 errors at
# every $d < n_c$ and positive at every $d > n_c$. Langevin dynamics at the same $d$ is the negative control.

# %%
crit = erun.run_critical(cfg)
record_path(CH, "linear_decoupled_sde", "synthetic_gaussian", "critical_dimension")
save_figure(efe.fig_critical(crit), CH, "fig8_critical_dimension",
            caption="Decoupled SDE below and above the critical dimension: first-passage times and drift of log L.")
glue(**et.critical_text(cfg, crit))

# %% [markdown]
# **Reading (figure 8).** Left: below $n_c$ the mean first-passage time grows as a power of $c$; above $n_c$ it grows
# only logarithmically. Markers are the simulation, solid lines the exact quadrature for a continuous path, dotted
# lines the same for a path looked at only every step, as simulated (Siegmund's correction shifts the threshold by
# $0.58$ noise standard deviations of one step). Right: the drift of $\log L$ at $L = 100L^*$,
# {glue:text}`nc_drifts`, changes sign at $n_c$ as $\frac{\eta h^*}{B}(d - n_c)$ predicts (verdict
# **{glue:text}`nc_verdict`**). Langevin, {glue:text}`nc_lang`, returns at every $d$ (the rule says
# **{glue:text}`nc_lang_verdict`** there). For discrete SGD with Gaussian inputs the second moment is stable only for
# $\eta(d + 2) < 2$ at $B = 1$, a much stricter bound than $n_c$.
#
# ## 7. Controls of every rule
#
# Each rule of the scorecard, run at the chapter's sample sizes on data where the claim holds and on data from the
# stated alternative. Shares are over repeated synthetic draws; a single verdict is from one simulation above.

# %%
show_table(ectl.control_rows(cfg, dec, noise, stat, esc, crit), caption="Positive and negative controls")

# %% [markdown]
# ## Scorecard

# %%
claims = ec.claims(cfg, dec, noise, stat, esc, crit)
save_claims(CH, claims)
show_verdict_box(CH, claims)
show_table(et.scorecard_rows(claims), caption="Scorecard rows of this chapter")
glue(wall_time=time.time() - t_start)

# %% [markdown]
# Chapter wall time: {glue:text}`wall_time:.0f` s.
#
# ## Explore
#
# Left: the stationary law of Gaussian-input SGD for a grid of $\eta$ and $B$ (each frame runs 1000 chains).
# Right: the distribution of first-passage times at one threshold $c$ for each $d$, from the runs above; a straight
# line on this semi-log plot means a memoryless (exponential) escape, the Kramers picture both theories share.

# %%
from paper_repro.present.widgets import explorer, side_by_side  # noqa: E402

small = cfg.profile == "smoke" or shrink
stat_grid = {"lr": [0.25, 1.0], "batch_size": [1]} if small else {"lr": [0.1, 0.25, 0.5, 1.0], "batch_size": [1, 2, 4]}
esc_grid = {"d": list(cfg.esc_dims), "c": [float(c) for c in cfg.esc_c][:: 2 if small else 1]}
side_by_side(explorer(ef.render_stationary, stat_grid, title="Stationary law", labels={"lr": "η", "batch_size": "B"}),
             explorer(lambda d, c: efe.render_escape(esc, d, c), esc_grid, title="First-passage time distribution",
                      labels={"d": "d", "c": "c"}))

# %% [markdown]
# ## Exercises
#
# 1. **Predict, then change one parameter.** Double the batch size in the stationary-law experiment. How should
#    $\phi$ change, and what happens to the tail probability $P(L > 3L^*)$?

# %% [markdown]
# ```{admonition} Solution
# :class: dropdown
# $\phi = 1 + B/(\eta h^*)$ grows linearly with $B$ (e.g. $\eta = 0.5$: $\phi$ from 3 to 5), so the law concentrates
# near $L^*$ and the power-law tail $P(L > 3L^*)$, which decays roughly like $3^{-(\phi - 1/2)}$, drops by about an
# order of magnitude. Run the stationary experiment of section 4 at $\eta = 0.5$ with $B = 1$ and $B = 2$ and compare
# the tail probabilities.
# ```

# %% [markdown]
# 2. **Effective dimension.** The theory says sharp directions that are *outliers* ($n$ of them) lower the exponent
#    by $n/2$. Build a $d = 4$ problem where only one direction is sharp (scale three input coordinates by 0.1) and
#    measure the first-passage slope. Is $n = 1$ or $n = 4$ the right count?

# %% [markdown]
# ```{admonition} Solution
# :class: dropdown
# Build the linear problem by hand with inputs $x \cdot (1, 0.1, 0.1, 0.1)$ and recompute its Hessian, minimum and
# $L^*$. The flat directions hardly move the loss, so escape is driven by the sharp one and the slope is close to the
# $n = 1$ value $B/(\eta h^*) + 1/2$, not the $n = 4$ value. The formula counts only outlier eigenvalues, which is why
# SGD prefers minima with few sharp directions (low effective dimension). Here $h^*$ is the sharp eigenvalue, not the
# mean eigenvalue of the Hessian.
# ```
