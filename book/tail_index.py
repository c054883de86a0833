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
# # The tail index of SGD noise (Şimşekli, Sagun & Gürbüzbalaban, 2019)
#
# {cite}`simsekli2019tail` argue that SGD's gradient noise (a minibatch gradient minus the full gradient) is not
# Gaussian but heavy-tailed, close to a symmetric $\alpha$-stable (S$\alpha$S) law with tail index $\alpha < 2$, so
# that SGD behaves like a Lévy-driven SDE whose jumps leave narrow basins quickly. We re-measure their $\hat\alpha$
# with their estimator on nets trained as their released code trains them, check what the estimator and each
# verdict rule can tell apart, and measure how much of the small $\hat\alpha$ comes from how the noise is pooled.
# Only the paper's abstract and its setup sentences could be read, so one row has a target the paper states; the
# others are shown apart.
#
# ```{glue:} verdict_box
# ```

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
steps: "Optional[int]" = None  # iteration cap per net of the width/depth sweeps (None: preset)
batch_size: "Optional[int]" = None  # SGD and noise batch (None: preset 500, the paper's; released code: 100)
k1_fixed: "Optional[int]" = None  # block size K1 of the fixed-K1 comparisons (None: preset, 1000)
threads: int = 1  # torch CPU threads (1 is fastest on a shared machine)

# %% tags=["remove-input"]
import time

import torch

from paper_repro.core.config import from_profile
from paper_repro.core.fetch import fetch_all
from paper_repro.core.results import glue, save_claims, save_json, save_npz
from paper_repro.experiments import tail_index as ti
from paper_repro.pipeline.sweep import SweepOptions
from paper_repro.present.display import show_params, show_table
from paper_repro.present.plotting import save_figure, subplots
from paper_repro.present.scorecard import show_verdict_box

cfg = from_profile(ti.PRESETS, profile, device=device, steps=steps, batch_size=batch_size, k1_fixed=k1_fixed)
cfg = ti.shrink(cfg) if shrink else cfg
opts = SweepOptions(executor=executor, slurm_partition=slurm_partition, gpus_per_node=gpus_per_node,
                    timeout_min=timeout_min, array_parallelism=array_parallelism)
fetch_all(ti.datasets(cfg))
CH, t_start = ti.CHAPTER, time.time()
torch.manual_seed(0)
torch.set_num_threads(threads)

# %% tags=["remove-input"]
show_params(cfg, ["profile", "dataset", "steps", "batch_size", "k1_fixed", "seeds", "widths", "depths"])

# %% [markdown]
# ## How the paper measures $\alpha$
#
# The released code fixes a partition of the training set into $B$ batches, computes every batch gradient
# $G_b$ and their mean $\bar G$ (the full gradient), and pools **all components** of the $B \times M$ noise matrix
# $G_b - \bar G$ into one vector $X_1, \dots, X_N$ ($N = BM$). The estimator of {cite}`mohammadi2015estimating` then
# sums blocks of $K_1$ consecutive samples, $Y_i = \sum_{k=(i-1)K_1+1}^{iK_1} X_k$, and uses the stability property
# $\sum^{K_1} X \overset{d}{=} K_1^{1/\alpha} X$:
#
# $$\frac{1}{\hat\alpha} = \frac{1}{\log K_1}\Big(\frac{1}{N/K_1}\sum_i \log|Y_i| - \frac1N \sum_k \log|X_k|\Big),$$
#
# with $K_1$ the largest divisor of $N$ not above $\sqrt N$ (a streaming version keeps a large net's noise matrix
# out of memory). First, does it recover $\alpha$ on S$\alpha$S samples drawn with the Chambers–Mallows–Stuck
# method {cite}`chambers1976method`?

# %%
syn = ti.synthetic_validation(cfg)
save_npz(CH, "synthetic_validation", **syn)
fig, axes = subplots(2, 1, width=6.6, height=3.0)
ti.figures.plot_synthetic(syn, axes[0], "mohammadi", legend=False)
ti.figures.plot_synthetic(syn, axes[1], "hill")
save_figure(fig, CH, "fig5_estimator_validation", caption="Mohammadi (top) and Hill (bottom) estimates against "
            "the true α of SαS samples, one curve per sample size, repetitions as error bars.")
glue(**ti.reading.synthetic_reading(cfg, syn))

# %% [markdown]
# **Reading.** On true S$\alpha$S data the paper's estimator is off by at most {glue:text}`syn_bias_large:.3f`
# for $n \geq 10^5$ (tolerance 0.05: **{glue:text}`syn_verdict`**, a check of the tool, not a result of the paper).
# The Hill estimator {cite}`hill1975simple` with $k=\sqrt n$ is off by up to {glue:text}`syn_hill_bias:.2f` at
# $n$ = {glue:text}`syn_n_max:,d`, worst at $\alpha$ = {glue:text}`syn_hill_worst_alpha:g`. The gradient-noise
# vectors below have between {glue:text}`n_noise_min:,d` and {glue:text}`n_noise_max:,d` components: sample size
# is not the issue, *whether the pooled vector is an i.i.d. S$\alpha$S sample* is. When $N$ has no divisor near
# $\sqrt N$ the estimator drops the fewest trailing samples so that a divisor in $[\sqrt N/2, \sqrt N]$ exists.
#
# ## Training the nets as released
#
# Fully connected ReLU nets without biases (depth = number of linear layers, PyTorch's default init) on MNIST
# normalised as in the released code, trained by plain SGD with the paper's step $\eta = 0.1$ and batch size
# {glue:text}`batch_size_used` (the paper's setup sentences say 500; the released script's default is 100), with
# the NLL or the one-vs-all linear hinge loss. Every net trains as the released code trains it: until its train
# accuracy, checked every {glue:text}`check_every` iterations, reaches 100 %, or until its iteration cap, with the
# step halved at a third and at two thirds of the cap (its minibatches are drawn at random; the released script
# cycles through the fixed partition). $\hat\alpha$ is then read on the train-set and test-set noise
# with fixed batches of SGD's size. The paper's $K_1 \approx \sqrt N$ changes with $N$; each net is also read at
# one fixed $K_1$ = {glue:text}`k1_fixed:,d`, and with its exact zeros dropped.

# %%
t0 = time.time()
nets = ti.run_networks(cfg, opts)
save_json(CH, "nets", {k: t.rows for k, t in nets.items()})
glue(**ti.reading.noise_sizes(nets), **ti.reading.k1_reading(nets), k1_fixed=cfg.k1_fixed, check_every=cfg.check_every,
     batch_size_used=cfg.batch_size, net_runs=sum(len(t.rows) for t in nets.values()), net_seconds=time.time() - t0)

# %% [markdown]
# {glue:text}`net_runs` nets finished in {glue:text}`net_seconds:.0f` s. The paper's $K_1$ ranges from
# {glue:text}`k1_width_min:,d` to {glue:text}`k1_width_max:,d` across the width sweep and from
# {glue:text}`k1_batch_min:,d` to {glue:text}`k1_batch_max:,d` across batch sizes.
#
# ## What the noise looks like

# %%
row = ti.histogram_row(cfg, nets)
fig, ax = subplots(width=6.6)
ti.figures.plot_histogram(row["hist"], row["alpha_train"], ax)
ax.set_title(f"{row['arch']} width/ch {row['width']} on {row['dataset']}: "
             f"$\\hat\\alpha$ = {ti.reading.fmt_pm(row['alpha_train'], row['stderr_train'])} (± stderr)")
save_figure(fig, CH, "fig1_noise_histogram", caption="Density of the absolute gradient-noise components of one "
            "trained net on log-log axes, with a Gaussian and an SαS law of matching scale.")
glue(**ti.reading.histogram_reading(row), hist_zero=row["zero_fraction"], hist_n=int(row["hist"]["n"]))

# %% [markdown]
# **Reading.** The density of $|X|$ on log-log axes (a fixed random subsample of {glue:text}`hist_n:,d`
# components; {glue:text}`hist_zero:.1%` of all components are exactly 0): a power-law tail
# $p(|x|) \propto |x|^{-1-\alpha}$ is a straight line. The median $|X|$ is {glue:text}`hist_median_over_std:.2f`
# standard deviations, against {glue:text}`hist_gauss_ratio:.2f` for a Gaussian (smaller: more spread over
# scales). For the largest components, the Hill estimate on the largest $\sqrt n$ of them is
# {glue:text}`hist_hill:.2f`, {glue:text}`hist_tail`.
#
# ## $\hat\alpha$ against width and depth, per loss
#
# The width sweep runs at depth {glue:text}`base_depth` and the depth sweep at width {glue:text}`base_width`; each
# loss is a curve of its own (solid: the paper's $K_1 \approx \sqrt N$; dashed: fixed $K_1$; dotted, open: zeros
# dropped), with the spread over seeds as error bars.

# %%
glue(base_depth=cfg.base_depth, base_width=cfg.base_width)
for d in (cfg.dataset, *cfg.fc_cifar):
    fig = ti.figures.plot_width_depth(nets, cfg, d)
    save_figure(fig, CH, "fig2_alpha_width_depth" + ("" if d == cfg.dataset else f"_{d}"),
                caption=f"α̂ of the train noise against width (top) and depth (bottom) on {d}, one colour per "
                "loss, at both block sizes and with the exact zeros dropped.")

# %%
show_table(ti.reading.sweep_rows({k: nets[k] for k in ("width", "depth")}),
           caption="Training stage reached and α̂ per setting (means over seeds; α̂ as mean ± std over seeds)")
glue(**ti.reading.sweep_reading(cfg, nets))

# %% [markdown]
# **Reading.** The paper's abstract says the noise is heavy-tailed in all settings. Ours reaches at most
# {glue:text}`all_alpha_max:.2f` over all trained nets ({glue:text}`below_scope`), so "$\hat\alpha < 2$ in every
# setting" is **{glue:text}`verdict_below_2`** ({glue:text}`n_diverged` diverged runs left out). Of the
# {glue:text}`n_sweep` width and depth nets, {glue:text}`n_full` reached 100 % train accuracy before their cap;
# train accuracies range from {glue:text}`acc_min:.1%` to {glue:text}`acc_max:.1%`, so nets that stopped at the
# cap are compared at the stage the cap allowed, which the table shows. At most {glue:text}`zero_max:.1%` of a
# net's noise components are exact zeros. From the smallest to the largest width $\hat\alpha$
# {glue:text}`trend_width`; from the shallowest to the deepest net it {glue:text}`trend_depth`;
# {glue:text}`hinge_vs_nll`. The paper varied width and depth but the directions of its trends could not be read,
# so "$\hat\alpha$ depends on width and on depth" is judged per loss, width and depth each needing a span above 0.1
# beyond two standard errors: **{glue:text}`verdict_arch`** at the paper's $K_1$,
# **{glue:text}`verdict_arch_fixed`** at the fixed $K_1$ (shown apart from the tally: the target is inferred).
#
# The paper also measures the released AlexNet on CIFAR-10 and CIFAR-100, and the released script runs the FC
# sweeps on CIFAR-10 as well.

# %%
if nets["cnn"].ok:
    fig, ax = subplots(width=6.6)
    ti.figures.plot_cnn(nets["cnn"], ax)
    save_figure(fig, CH, "fig2c_alpha_cnn", caption="α̂ of the released AlexNet against its channel scale, per "
                "dataset and loss, at both block sizes.")
    show_table(ti.reading.sweep_rows({"cnn": nets["cnn"]}), caption="AlexNet: α̂ against the channel scale")
glue(cnn_reading=ti.reading.cnn_reading(nets))

# %% [markdown]
# {glue:text}`cnn_reading`

# %% [markdown]
# ## $\hat\alpha$ against the batch size
#
# Every batch size is capped at the same number of epochs ({glue:text}`batch_epochs:g`), not iterations, so that
# small batches are not compared half-trained against large ones.

# %%
fig, ax = subplots(width=6.6)
ti.figures.plot_batch(nets["batch"], ax, k1_fixed=cfg.k1_fixed)
save_figure(fig, CH, "fig3_alpha_batch_size", caption="α̂ of the train and test noise against the batch size at "
            "a fixed number of epochs, at both block sizes.")
show_table(ti.reading.sweep_rows({"batch": nets["batch"]}), caption="Batch sweep: training stage and α̂")
glue(**ti.reading.batch_reading(cfg, nets))

# %% [markdown]
# **Reading.** Over our batch sizes the mean $\hat\alpha$ spans {glue:text}`batch_span:.3f` at the paper's $K_1$
# and {glue:text}`batch_span_fixed:.3f` {glue:text}`batch_span_err` (two standard errors from the spread over
# seeds) at the fixed $K_1$, which is where this is read (the paper's $K_1$ moves with the number of batches). No
# readable part of the paper states a batch-size result, so "the batch size changes $\hat\alpha$ little" is our
# own question: reproduced only if span + 2 standard errors stays below 0.1
# (**{glue:text}`batch_verdict`**).
#
# ## $\hat\alpha$ along training: a drop, then a jump?
#
# A third-party log made with the released estimator (MNIST, $b$ = 100, every 10 iterations) shows $\hat\alpha$
# dropping by about 0.06 in the first 20 iterations while the accuracy climbs from 10 % to 57 %, then rising by
# 0.06–0.09 by iteration 90: all inside the released cadence's first interval. So our tracked runs (width
# {glue:text}`track_width`, one per seed) measure train and test noise {glue:text}`track_cadence`.

# %%
tests = ti.phases.seed_tests(cfg, nets)
axes = ti.figures.plot_track(tests, until=cfg.track_dense_until)
save_figure(axes[0].figure, CH, "fig4_alpha_during_training", caption="α̂ of train and test noise and the train "
            "accuracy along training per seed, and the null distribution of the drop-then-jump statistic.")
glue(**ti.reading.track_reading(cfg, nets))

# %% [markdown]
# **Reading.** The statistic is $S = \min(\text{drop}, \text{jump})$: the drop from the highest point into the
# lowest point of the accuracy rise (up to 90 % of it), and the jump from there to the highest point after it. Its
# null is a flat series with the series' own point-to-point jitter (here {glue:text}`track_jitter:.4f` on average);
# a flat series passes at most 5 % of the time. Over the seeds the drop is {glue:text}`track_drop_min:.3f` to
# {glue:text}`track_drop_max:.3f` and the jump {glue:text}`track_jump_min:.3f` to {glue:text}`track_jump_max:.3f`,
# against null 95 % points up to {glue:text}`track_q95_max:.3f` (largest p = {glue:text}`track_p_max:.3f`); the
# minimum falls at iteration {glue:text}`track_step_min` (train accuracy {glue:text}`track_acc_at_min`). Per seed
# the train noise gives {glue:text}`track_seed_verdicts` and the test noise {glue:text}`track_test_verdicts`;
# together **{glue:text}`track_verdict`**. The null treats the jitter as independent from point to point; an
# $\hat\alpha$ that wanders slowly would pass it more often, so where the seeds put their minima matters as much as
# the p-values. The paper's text on this could not be read, so the row is shown apart.
# {glue:text}`track_full` of {glue:text}`track_runs` tracked runs reached 100 % train accuracy (the last measured
# iteration is {glue:text}`track_last`).
#
# ## Can each rule tell the claim from its alternative?
#
# Every rule above is run on synthetic data where its claim holds and where the alternative holds, with this
# profile's settings and seeds: nets whose $\hat\alpha$ is read from i.i.d. S$\alpha$S samples of
# {glue:text}`control_n:,d` components (true $\alpha$ 1.2 against 2 for "$\alpha < 2$"; 1.1 to 1.4 across settings
# against a flat 1.25 for the sweeps), and tracked series with a drop of 0.06 and a jump of 0.08 against flat ones,
# with the tracked runs' jitter.

# %%
su = ti.controls.setup(cfg, nets, ti.reading.track_reading(cfg, nets)["track_jitter"],
                       len(ti.phases.window(tests[0][0].get("track") or [], cfg.track_dense_until)))
controls = ti.controls.run_all(su, cfg.control_reps)
ax = ti.figures.plot_controls(controls)
save_figure(ax.figure, CH, "fig8_rule_controls", caption="Share of verdicts of each rule on synthetic data where "
            "its claim holds and where the alternative holds.")
glue(control_n=su.n, **ti.reading.control_reading(controls))

# %% [markdown]
# **Reading.** Where the claim holds the rules say "reproduced" in {glue:text}`ctl_pos_min:.0%` to
# {glue:text}`ctl_pos_max:.0%` of the draws; on the alternative they say "not reproduced" in
# {glue:text}`ctl_neg_min:.0%` to {glue:text}`ctl_neg_max:.0%` (least: {glue:text}`ctl_neg_worst`) and
# "reproduced" in at most {glue:text}`ctl_false_max:.0%`. A rule with few "not reproduced" on its alternative
# answers "inconclusive" there: at this number of seeds it cannot rule the claim out, only fail to confirm it.

# %% [markdown]
# ## How much of $\hat\alpha$ is the pooling?
#
# The estimator assumes i.i.d. samples. The pooled vector is not: consecutive components belong to the same batch
# and to neighbouring parameters of very different scales, and it can contain exact zeros. We measure the *same*
# noise matrix in several ways, all at the same $K_1$: as pooled; with exact zeros dropped; randomly permuted; and
# with each parameter's noise standardised across batches, then permuted. The last bar is the Hill estimate on
# the largest $\sqrt n$ components. The first group is a small FC at initialisation on Gaussian inputs; the last
# the base net fed raw pixels in $[0, 1]$ (border pixels then give exactly-zero gradient components).

# %%
sens = ti.pooling_groups(cfg, nets)
calib = ti.pooling_calibration(cfg, ti.measured_shape(nets, cfg))
save_json(CH, "pooling_sensitivity", {"nets": sens, "calibration": calib})
fig, ax = subplots(width=6.6)
ti.figures.plot_sensitivity(sens, ax)
save_figure(fig, CH, "fig6_pooling_sensitivity", caption="α̂ of the same noise matrices pooled in different ways "
            "(as pooled, zeros dropped, permuted, standardised and permuted, Hill), one group per net.");

# %% [markdown]
# **Reading.** Permuting, dropping zeros and standardising each change what the estimator reads from the same
# noise; the numbers are read against i.i.d. S$\alpha$S matrices below. Standardising each column over a finite
# number of batches pulls $\hat\alpha$ toward 2 even for truly heavy-tailed noise, so the same variants are computed
# on i.i.d. S$\alpha$S matrices of the measured shape for several true $\alpha$ (lines); the trained nets' values
# are the ticks on the right.

# %%
fig, ax = subplots(width=6.6)
ti.figures.plot_calibration(calib, ti.claims.trained_variants(sens), ax)
save_figure(fig, CH, "fig6b_pooling_calibration", caption="What each pooling variant reads on i.i.d. SαS matrices "
            "of the measured shape against their true α (lines), and the trained nets' values (ticks).")
glue(**ti.reading.pooling_reading(cfg, sens, nets, calib))

# %% [markdown]
# **Reading.** On the trained MNIST nets the pooled $\hat\alpha$ (at $K_1$ = {glue:text}`k1_fixed:,d`) lies between
# {glue:text}`pool_min:.2f` and {glue:text}`pool_max:.2f`; standardised and permuted it lies between
# {glue:text}`std_min:.2f` and {glue:text}`std_max:.2f`. Permuting alone moves $\hat\alpha$ {glue:text}`perm_dir`
# (by {glue:text}`perm_gain_min:+.2f` to {glue:text}`perm_gain_max:+.2f`). On i.i.d. S$\alpha$S matrices of the
# same shape ({glue:text}`calib_rows:,d` × {glue:text}`calib_cols:,d`) the standardised + permuted variant reads
# {glue:text}`calib_std_low:.2f` at $\alpha$ = {glue:text}`calib_alpha_low:g` and {glue:text}`calib_std_2:.2f` at
# $\alpha$ = {glue:text}`calib_alpha_max:g`: read against these curves, the trained nets' values correspond to
# i.i.d. S$\alpha$S noise with $\alpha \approx$ {glue:text}`pool_equiv:.2f` ± {glue:text}`pool_equiv_err:.2f`, so
# "the small $\hat\alpha$ is the noise's tail index, not the pooling" (our question, beyond the paper) is
# **{glue:text}`verdict_pooling`**. With raw pixels, {glue:text}`raw_zero:.0%` of the components are exact zeros
# and the pooled $\hat\alpha$ is {glue:text}`raw_pooled:.2f` ({glue:text}`raw_nonzero:.2f` with the zeros dropped),
# against {glue:text}`base_pooled:.2f` on normalised inputs. The extreme tail (Hill, {glue:text}`hill_min:.2f` to
# {glue:text}`hill_max:.2f`) is {glue:text}`hill_vs_2`. At initialisation on Gaussian inputs the Mohammadi
# variants give {glue:text}`init_min:.2f` to {glue:text}`init_max:.2f`.
#
# ## Lévy vs Brownian first-exit times
#
# The theory the paper cites for why heavy tails matter: for $dX = -U'(X)dt + \varepsilon\, dL^\alpha_t$, the mean
# time to leave a basin of half-width $a$ is $\approx \alpha a^\alpha / (2 c_\alpha \varepsilon^\alpha)$ (a single
# big jump; {cite}`imkeller2006first`), polynomial in $a$ and $1/\varepsilon$; for Brownian noise it is
# exponential, $\propto e^{a^2/\sigma^2}$. We simulate $U(x) = x^2/2$ in $(-a, a)$ with an Euler scheme; open
# triangles are settings where over half of the particles had not left by the censoring time.

# %%
exits = ti.exit_time_study(cfg)
fig, axes = subplots(2, 1, width=5.6, height=3.0)
ti.figures.plot_exit(exits["eps"], "eps", axes[0], dt=cfg.sde_dt)
ti.figures.plot_exit(exits["width"], "width", axes[1], dt=cfg.sde_dt)
axes[1].set_title(f"$\\varepsilon$ = {cfg.sde_eps_fixed}")
save_figure(fig, CH, "fig7_exit_times", caption="Mean first-exit time of Lévy-driven and Brownian SDEs against "
            "the noise scale (top) and the basin half-width (bottom), simulation (markers) and theory (lines).")
save_npz(CH, "exit_times", **{f"{k}_{f}": getattr(v, f) for k, v in exits.items()
                              for f in ("alpha", "eps", "width", "times", "censored")})
glue(**ti.reading.exit_reading(cfg, exits))

# %% [markdown]
# **Reading.** Lines are the small-noise theory (Lévy) and the exact Brownian mean exit time (with the Euler
# scheme's discrete-monitoring correction). At the smallest uncensored $\varepsilon$ our simulated means are
# {glue:text}`exit_ratio_min:.2f` to {glue:text}`exit_ratio_max:.2f` times the theory. The fitted log-log slopes
# against $\varepsilon$ are {glue:text}`exit_slopes`; where a slope is steeper than $\alpha$, small jumps at the
# larger $\varepsilon$ still diffuse the particle out (the theory is an $\varepsilon \to 0$ law). The Brownian exit
# times {glue:text}`exit_brownian`. This checks the cited theory, not an experiment of the paper
# (**{glue:text}`exit_verdict`**); whether SGD *is* such an SDE depends on the noise measurement above.
#
# ## Scorecard

# %%
claims = ti.claims.make_claims(cfg, nets, syn, sens, calib, exits)
save_claims(CH, claims)
show_verdict_box(CH, claims)
show_table(ti.reading.scorecard_rows(claims), caption="Scorecard rows of this chapter")

# %% [markdown]
# ## Explore
#
# First: synthetic S$\alpha$S samples and what both estimators say. Second: the noise histogram of the nets of the
# width sweep. The sliders work in the static book (precomputed frames).

# %%
from paper_repro.present.widgets import explorer, side_by_side  # noqa: E402

syn_grid = {"alpha": list(cfg.synth_alphas), "n": [n for n in cfg.synth_sizes if n <= 100_000]}
net_grid = {"width": list(cfg.widths), "loss": list(cfg.losses)}
side_by_side(explorer(ti.explore.render_synthetic, syn_grid, title="Synthetic SαS noise", labels={"alpha": "α"}),
             explorer(ti.explore.net_renderer(nets, cfg), net_grid, title="Gradient noise of FC nets on MNIST"))

# %% [markdown]
# ## Closing note

# %%
glue(wall_time=time.time() - t_start, profile_name=cfg.profile, n_counted=sum(c.counted for c in claims),
     n_apart=sum(not c.counted for c in claims))
bench = ti.reading.benchmark_rows()
if bench:
    show_table(bench, caption="Benchmark (benchmarks/bench_tail_index.py, ratios from one run)")

# %% [markdown]
# Of this chapter's rows, {glue:text}`n_counted` has a target the paper states (the heavy tail in every setting);
# {glue:text}`n_apart` are shown apart: targets inferred from the abstract, questions asked here, and checks of the
# estimator and of the theory the paper cites. Every net was trained with the released stopping rule and step
# halvings, and every verdict rule was run on synthetic data where its claim holds and where it does not. This run took
# {glue:text}`wall_time:.0f` s in the {glue:text}`profile_name` profile.

# %% [markdown]
# ## Exercises
#
# 1. **Predict, then change a parameter.** Re-run with a batch size of 100 (the released code's value). Will
#    $\hat\alpha$ go up or down? (Hint: how does the number of pooled components change?)

# %% [markdown]
# ```{admonition} Solution
# :class: dropdown
# With batch 100 there are five times more batches, so $N$ and $K_1$ grow; the batch-size figure already shows
# $\hat\alpha$ at several batch sizes. In the quick profile the change was small compared with the effect of
# pooling: the batch size was not what made $\hat\alpha$ small.
# ```

# %% [markdown]
# 2. **Per-pixel standardisation.** The released code normalises MNIST with one global mean and std. Standardise
#    each pixel instead (`paper_repro.core.data.load_dataset("mnist").flatten().standardize()`) and measure the noise
#    of a small net with `ti.measure_noise`. Do the pooled and the standardised + permuted values move?

# %% [markdown]
# ````{admonition} Solution
# :class: dropdown
# ```python
# data = load_dataset("mnist").first(10000).flatten().standardize()
# net = ti.fc_net(784, 64, 2, 10)
# ti.measure_noise(net, ti.nll_loss, data.x, data.y, 500).variants
# ```
# Per-pixel standardisation evens out the scales of the first-layer gradients, so the pooled value moves towards
# the standardised one; the standardised + permuted value should barely move, because it does not depend on the
# per-parameter scales at all (only exact zeros, as with raw pixels above, pull it down).
# ````

# %% [markdown]
# 3. **Per-layer tail index.** Extend `pooling_variants` to estimate $\hat\alpha$ separately for each layer's
#    noise (standardised per parameter). Is any layer's noise heavy-tailed on its own?

# %% [markdown]
# ```{admonition} Solution
# :class: dropdown
# Slice the columns of the noise matrix by layer (`[p.numel() for p in net.parameters()]` gives the sizes), then
# apply `tail_index` to each standardised, permuted slice and compare with the pooled value of the same slice.
# In the quick profile the standardised + permuted value of the whole net was already close to 2, so no single
# layer can be far below 2 once standardised unless it is a small share of the components.
# ```

# %% [markdown]
# 4. **Extend the experiment: CNN on CIFAR-10.** Measure $\hat\alpha$ of `paper_repro.core.models.alexnet_like(ch=16)`
#    on CIFAR-10 (the paper's setting) with `ti.measure_noise`, as pooled and standardised+permuted.

# %% [markdown]
# ```{admonition} Solution
# :class: dropdown
# Load `load_dataset("cifar10").first(5000)`, normalise it with the released code's statistics (mean
# (0.491, 0.482, 0.447), std (0.247, 0.243, 0.262)), train with `paper_repro.core.train.sgd_train` (lr 0.1, batch 500)
# for a few hundred steps, then call `ti.measure_noise(net, ti.nll_loss, x, y, 500)` and compare the pooled value
# with 2 (Gaussian) and with the standardised + permuted value. (The paper profile runs this sweep; smoke and quick
# do not.)
# ```
