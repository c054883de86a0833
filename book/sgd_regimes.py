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
# # SGD noise in the lazy and feature regimes
#
# This chapter reproduces *Dissecting the Effects of SGD Noise in Distinct Regimes of Deep Learning*
# {cite}`sclocchi2023dissecting`. The paper asks when the noise of stochastic gradient descent, measured by a
# temperature $T$, changes what a network learns, and finds that the answer depends on the training regime set by
# the scale $\alpha$ of the output {cite}`geiger2020disentangling`.
#
# ```{glue:} verdict_box
# ```
#
# The claims, in the paper's terms:
#
# 1. **Phase diagram.** In the $(\alpha, T)$ plane noise is useful in one regime and detrimental in the other; on
#    the feature side ($\alpha \ll 1$) the best temperature scales as $T_\mathrm{opt} \sim \alpha^{k}$ with
#    $k = (L-1)/(L+1) = 2/3$ for $L = 5$ hidden layers.
# 2. **Lazy regime** ($\alpha \gg 1$). The relative weight change and the training time are power laws,
#    $\|w - w_0\|/\|w_0\| \sim T^\delta P^\gamma$ and $t^* \sim T P^b$, and the net leaves the kernel regime
#    (and its test error changes) above a temperature $T_c \sim P^{-a}$.
# 3. **Perceptron.** On data whose density near the decision boundary is $\propto |x_1|^\chi$, the informative
#    weight $w_\parallel$ grows with $P$ with an exponent that depends on $\chi$.
#
# **What we run: the released code's model and units** (AntonioScl/SGD_learning_regimes). Fully connected nets
# of $L$ hidden layers of width $h$, no biases, weights $\mathcal N(0,1)$, hidden layers
# $\rho(W x/\sqrt{\text{fan-in}})$ with $\rho = \sqrt 2\,\mathrm{ReLU}$ (GELU, normalised alike, in the phase
# diagram), readout $F = W x_L / h$. The trained function is $F(w, x) - F(w_0, x)$, the loss
# $\ell(\alpha [F(w,x) - F(w_0,x)], y)/\alpha$ with the hinge $\ell(o, y) = \max(0, 1 - y o)$. Plain SGD, a
# batch of $B$ distinct points per step, step size $\mathrm{d}t = T h B$: $T = \mathrm{d}t/(B h)$ is the
# temperature as the released code defines it, and every $T$ and $\alpha$ on this page is the released code's.
# Training stops when the training loss is exactly zero; $t^* = $ steps $\times$ $\mathrm{d}t$. Data: MNIST even
# ($+1$) / odd ($-1$), pixels $(x - 33.31)/78.57$ as released; as in the released code, one fixed test set is
# drawn from the 70,000 images and **each seed trains on its own draw** of the rest, so seed error bars include
# the data draw. Nets that hit the step cap are *capped* and left out of every fit; nets whose loss becomes
# infinite are *diverged*. Many nets are trained at once as one vectorised ensemble, tested against a
# loop-by-loop transcription of the released update rule.

# %% tags=["remove-input"]
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
seeds: "Optional[int]" = None  # seeds per (T, P) cell of the lazy sweep (None: profile preset)
max_steps: "Optional[int]" = None  # SGD step cap per net of the lazy sweep (None: profile preset)
phase_P: "Optional[int]" = None  # training-set size of the phase diagram (None: profile preset)
threads: int = 1  # torch CPU threads (1 is fastest on a shared machine)
full_grid: bool = False  # with profile paper: the released grids, every cell (preset paper_full)

# %% tags=["remove-input"]
import time

import torch

from paper_repro.core.fetch import fetch_all
from paper_repro.core.results import glue, record_path, save_claims, save_json
from paper_repro.experiments import sgd_regimes as sr
from paper_repro.pipeline.sweep import SweepOptions
from paper_repro.present.display import show_params, show_table
from paper_repro.present.plotting import save_figure, subplots
from paper_repro.present.scorecard import show_verdict_box
from paper_repro.present.widgets import explorer

# %% tags=["remove-input"]
cfg = sr.make_config("paper_full" if full_grid and profile == "paper" else profile, device=device, seeds=seeds,
                     max_steps=max_steps, phase_P=phase_P)
cfg = sr.shrink(cfg) if shrink else cfg
opts = SweepOptions(executor=executor, slurm_partition=slurm_partition, gpus_per_node=gpus_per_node,
                    timeout_min=timeout_min, array_parallelism=array_parallelism)
fetch_all(sr.datasets(cfg))
torch.set_num_threads(threads)
CH, t_start, an, fx = sr.CHAPTER, time.time(), sr.analysis, sr.effects
show_params(cfg, ["profile", "width", "depth", "batch_size", "lazy_P", "seeds", "phase_P", "n_test", "perc_d"])
glue(**sr.reading.config_values(cfg))

# %% [markdown]
# ## 1. The $(\alpha, T)$ phase diagram
#
# GELU nets at $P$ = {glue:text}`phase_P`, {glue:text}`phase_seeds` seeds per cell, all trained together. Each
# cell shows the seed-mean test error; red crosses are diverged runs, open squares cells with capped runs (the
# number is how many seeds of the cell hit the step cap of {glue:text}`phase_cap` steps), stars the best
# temperature of each $\alpha$ (open stars: the best is at an edge of the temperatures that converged, so it is
# only a bound). When the error still falls at the largest temperature that converges and the next one diverges,
# $T_\mathrm{opt}$ is that largest stable temperature, known to within one grid step.

# %%
phase = sr.phase_diagram(cfg, **opts.run_kwargs())
record_path(CH, "fc_gelu", "mnist", "phase_diagram")
save_json(CH, "phase", {k: v for k, v in phase.items() if k != "curves"})
opt = an.optimal_temperature(phase, cfg.feature_alpha_max)
fig, ax = subplots(width=6.8, height=4.8)
sr.figures.plot_phase(phase, opt, ax)
save_figure(fig, CH, "fig1_phase_diagram", caption="Seed-mean test error of GELU nets over the output scale α "
            "and the temperature T, with diverged and capped runs and the best temperature of each α.")
glue(**sr.reading.phase_reading(cfg, phase, opt))

# %% [markdown]
# **Reading (figure 1).** Of {glue:text}`phase_n_runs` runs, {glue:text}`phase_n_div` diverged and
# {glue:text}`phase_n_capped` hit the step cap ({glue:text}`phase_capped_where`). On the feature side
# ($\alpha \le 1$) {glue:text}`phase_n_fit` of the {glue:text}`phase_n_side` values of $\alpha$ give a usable
# $T_\mathrm{opt}$ ({glue:text}`phase_n_edge` sit at an edge and stay out of the fit); their slope is $k$ =
# {glue:text}`phase_k` (the scaling argument's $(L-1)/(L+1)$ = {glue:text}`phase_k_paper`; $\pm$ is the 95 %
# $t$-interval widened by the grid: each $T_\mathrm{opt}$ is only known to within one grid step). For
# {glue:text}`phase_n_stab` of those $\alpha$ the error still falls at the largest temperature that converges,
# so there $T_\mathrm{opt}$ is the stability edge (its own slope: {glue:text}`phase_k_div`).
# {glue:text}`phase_stab_sentence`

# %% [markdown]
# ## 2. Lazy regime: when does the net leave the kernel regime?
#
# At $\alpha$ = {glue:text}`lazy_alpha_txt` we train every $(P, T)$ pair with several seeds. The paper's $T_c$ is
# where the net escapes the kernel regime and its test error changes. We locate it where the seed-mean relative
# weight change $\|w-w_0\|/\|w_0\|$ reaches a fixed level (log-log interpolation between grid temperatures, seeds
# bootstrapped), and, as a second, coarser marker, the smallest $T$ whose test error differs from that at the
# smallest $T$ by more than twice its standard error.

# %%
lazy_all = {ds: sr.lazy_sweep(cfg, ds, **opts.run_kwargs()) for ds in cfg.lazy_datasets}
for ds in cfg.lazy_datasets:
    record_path(CH, "fc", ds, "lazy_sweep")
    save_json(CH, f"lazy_{ds}" if ds != "mnist" else "lazy", {k: v for k, v in lazy_all[ds].items() if k != "curves"})
lazy = lazy_all["mnist"]
cross_all = {ds: an.crossover(tab, cfg.Tc_level, cfg.n_boot, n_test=cfg.n_test) for ds, tab in lazy_all.items()}
cross, fits = cross_all["mnist"], an.noise_fits(lazy, cfg.fit_T_min, cfg.n_boot)
if cfg.profile == "quick" and not shrink:  # the stopping-time law that prices the paper profile's plan
    sr.stopping.save(CH, sr.stopping.measure(lazy, phase))

# %%
fig, axes = subplots(3, 1, width=6.8, height=2.7)
sr.figures.plot_lazy(lazy, cross, axes)
save_figure(fig, CH, "fig2_lazy_Tc", caption="Lazy nets: relative weight change and test error against T for "
            "each P, and the temperature T_c where the weight change reaches the kernel-exit level, against P.")
show_table(sr.reading.crossover_rows(cross), caption="Where the lazy nets leave the kernel regime")
err_tc = fx.error_at_Tc(cross.P, cross.T_c, cross.onset, cfg.lazy_T)
glue(**sr.reading.lazy_reading(cfg, lazy, cross), err_tc_hits=err_tc[0], err_tc_n=err_tc[1])

# %% [markdown]
# **Reading (figure 2).** For every $P$ the relative weight change runs from at most
# {glue:text}`lazy_w_min:.1e` at the smallest $T$ to at least {glue:text}`lazy_w_max:.2f` at the largest
# temperature that still converged (at least {glue:text}`lazy_decades:.1f` decades); {glue:text}`lazy_n_div` of
# {glue:text}`lazy_n_runs` runs diverged, the first at $T$ = {glue:text}`lazy_div_T`, and
# {glue:text}`lazy_n_capped` hit the step cap. The nets reach $\|w-w_0\|/\|w_0\|$ =
# {glue:text}`lazy_Tc_level` at $T_c(P) \propto P^{-a}$ with $a$ = {glue:text}`lazy_a` (bottom panel;
# $P \le$ {glue:text}`lazy_P_max`, {glue:text}`lazy_seeds` seeds). The test error first moves beyond its error bar
# within one grid step of $T_c$ at {glue:text}`err_tc_hits` of the {glue:text}`err_tc_n` values of $P$ where both
# are found (table, last column).

# %% [markdown]
# ## 3. Does noise help or hurt?
#
# In each regime we compare the seed-mean test error at the best temperature $T_\mathrm{opt}$ and at the largest
# temperature whose seeds all converged with the error at $T \to 0$: the smallest temperature where no seed was
# capped or diverged (when runs below it were capped, the table says how many: the baseline is then a noisier
# $T$). The two regimes come from the same phase diagram (same $P$, activation and temperatures), so only
# $\alpha$ differs; the table has every $\alpha$ of the diagram and, last, the lazy sweep's largest $P$ (ReLU).
# Standard errors come from the seed-to-seed scatter (each seed its own training draw); an effect counts when it
# exceeds twice its standard error ($\pm$ below: two standard errors).

# %%
effects = {a: an.noise_effect(phase, a, cfg.phase_P, cfg.n_test) for a in cfg.phase_alphas}
eff = {"lazy": effects[max(cfg.phase_alphas)], "feat": effects[cfg.feature_alpha],
       "sweep": an.noise_effect(lazy, cfg.lazy_alpha, max(cfg.lazy_P), cfg.n_test)}
eff["opposite"] = fx.opposite_effects(phase, eff["lazy"], eff["feat"], cfg.n_test)
show_table(sr.reading.effect_rows(cfg, effects, eff["sweep"]),
           caption=f"Noise effect on the test error (P = {cfg.phase_P} unless stated)")
glue(**sr.reading.effect_glue(cfg, eff, effects))

# %% [markdown]
# **Reading.** With {glue:text}`eff_seeds` seeds and {glue:text}`n_test_txt` test points per net, noise
# **{glue:text}`lazy_effect`** in the lazy regime ($\alpha$ = {glue:text}`lazy_corner`) and
# **{glue:text}`feat_effect`** at $\alpha$ = {glue:text}`feat_alpha` on the feature side. Over all
# $\alpha \le 1$ of the diagram, noise helps at {glue:text}`n_feat_helps` of {glue:text}`n_feat` values and hurts
# at {glue:text}`n_feat_hurts`. In the lazy sweep at $P$ = {glue:text}`sweep_P` (ReLU, $\alpha$ =
# {glue:text}`lazy_alpha_txt`, temperatures up to the stability limit, where the nets leave the kernel regime),
# noise **{glue:text}`sweep_effect`**; {glue:text}`sweep_sentence` From the lazy corner, raising $T$ changes the
# error by {glue:text}`opp_T` and lowering $\alpha$ to {glue:text}`feat_alpha` by {glue:text}`opp_alpha`
# ({glue:text}`opp_sentence`).

# %% [markdown]
# ## 4. Power laws of the weight change and of the training time
#
# Fitted on the converged runs with $T \ge$ {glue:text}`fit_T_min_txt` (the noise-dominated side); dividing by
# $P^\gamma$ and $P^b$ should collapse the curves of all $P$ where the power laws hold.

# %%
w, t = fits["weights"], fits["time"]
fig, axes = subplots(2, 1, width=6.8, height=2.8)
sr.figures.plot_scaling(lazy, fits, axes)
save_figure(fig, CH, "fig3_scaling", caption="Lazy nets: relative weight change divided by P^γ and training "
            "time divided by P^b against T, one curve per P, with the fitted power law in T.")
glue(lazy_delta=an.fmt(w.e_T, w.err_T), lazy_gamma=an.fmt(w.e_P, w.err_P), lazy_x=an.fmt(t.e_T, t.err_T),
     lazy_b=an.fmt(t.e_P, t.err_P), lazy_ratio=w.e_P / w.e_T if w.e_T else float("nan"))

# %% [markdown]
# **Reading (figure 3).** $\|w-w_0\|/\|w_0\| \propto T^\delta P^\gamma$ with $\delta$ = {glue:text}`lazy_delta`
# and $\gamma$ = {glue:text}`lazy_gamma`; $t^* \propto T^x P^b$ with $x$ = {glue:text}`lazy_x` (paper: 1) and
# $b$ = {glue:text}`lazy_b`. The ratio $\gamma/\delta$ = {glue:text}`lazy_ratio:.2f` is what the level-crossing
# $T_c$ should give for $a$ if the power law held over the whole range (the APS abstract states $a = \gamma/\delta$).

# %% [markdown]
# ## 5. The perceptron
#
# The released linear model on depleted-sign data: $x \in \mathbb R^d$ with $d$ = {glue:text}`perc_d`,
# $y = \mathrm{sign}(x_1)$, $|x_1|$ with density $\propto |x_1|^\chi e^{-x_1^2/2}$, $F = w\cdot x/\sqrt d$,
# $\alpha = 2^{15}$, $B = 2$, $h = 1$ (so $\mathrm{d}t = T B$). For a linear model $u = \alpha(w - w_0)$ follows
# the same SGD at temperature $\alpha T$, so we simulate $u$ event-driven (jumping over steps whose batch holds no
# unfitted point, exact). The predictions (the authors' follow-up, read in a summary) are asymptotic in $P$: the
# signal-to-noise ratio $w_\parallel/\|w_\perp\| \propto P^{1/(1+\chi)}$ and the noise part
# $\|w_\perp\| \propto T P^0$, hence $w_\parallel \propto T P^{1/(1+\chi)}$. At finite $P$ the noise part still
# drifts, so we read each exponent as the **local slope at the largest pair of $P$** ($P/d$ up to
# {glue:text}`perc_Pd_max`), each seed's slope averaged over $T \ge$ {glue:text}`perc_T_min_txt`
# ({glue:text}`perc_n_T` temperatures, where $w_\parallel \propto T$), $\pm$ the 95 % $t$-interval
# over {glue:text}`perc_seeds` seeds. A miss whose slope still moves toward the prediction from the pair before
# is *pre-asymptotic* (inconclusive), not a failure.

# %%
perc = sr.perceptron_sweep(cfg, **opts.run_kwargs())
record_path(CH, "linear", "depleted_sign", "perceptron")
save_json(CH, "perceptron", perc)
pfits = an.perceptron_fits(perc, cfg.perc_fit_T_min, cfg.perc_fit_P_min, cfg.n_boot)
local = sr.finite_size.all_local(cfg, perc)
rates = sr.finite_size.control_rates(cfg, local)

# %%
fig, axes = subplots(5, 1, width=6.8, height=2.4)
sr.figures.plot_perceptron(perc, pfits, axes[:2])
sr.figures.plot_local(local, rates, axes[2:])
save_figure(fig, CH, "fig4_perceptron", caption="Perceptron: the informative weight and the training time against P "
            "at each T and χ, and the local P-slopes of the signal, the signal-to-noise ratio and the noise part.")
glue(**sr.reading.perceptron_glue(cfg, local, rates))

# %% [markdown]
# **Reading (figure 4).** Dotted lines are the predictions, $1/(1+\chi)$ for the signal and the ratio and $0$ for
# the noise part; the legend gives each verdict at the largest pair and, in brackets, the rule's controls: the
# share of "reproduced" on {glue:text}`perc_n_rep` synthetic sweeps that follow the predicted law with the noise
# measured here (same seeds, temperatures and $P$), and the share of "not reproduced" when the exponent is the
# other density's (1/2 for $\chi = 0$, 1 for $\chi = 1$; for the noise part: growing like the signal). At the
# largest pair: {glue:text}`perc_summary`. The pooled fits over all $P$ (table) mix the drifting noise part into
# the signal's exponent; their ratio $\gamma(\chi)/\gamma(0)$ cancels what the two densities share.

# %%
show_table(sr.reading.perceptron_rows(pfits), caption="Perceptron: pooled fits of w_∥ ∝ T^δ P^γ over all P")

# %% [markdown]
# ## 6. The released MNAS and CIFAR-10
#
# {glue:text}`mnas_sentence`

# %%
mnas_all = {ds: sr.mnas_sweep(cfg, ds, **opts.run_kwargs()) for ds in cfg.mnas_datasets}
for ds, tab in mnas_all.items():
    record_path(CH, "mnas", ds, "lazy_sweep")
    save_json(CH, f"mnas_{ds}", {k: v for k, v in tab.items() if k != "curves"})
mnas_cross = {ds: an.crossover(tab, cfg.Tc_level, cfg.n_boot, n_test=cfg.n_test) for ds, tab in mnas_all.items()}
show_table([{"net, data": f"MNAS, {ds}", "a": an.fmt(c.a, c.err_a)} for ds, c in mnas_cross.items()]
           + [{"net, data": f"FC, {ds}", "a": an.fmt(c.a, c.err_a)} for ds, c in cross_all.items() if ds != "mnist"],
           caption="Lazy sweeps: T_c ∝ P^-a")

# %%
mnas_phase = {ds: sr.mnas_phase_diagram(cfg, ds, **opts.run_kwargs()) for ds in cfg.mnas_phase_datasets}
mnas_opt = {ds: an.optimal_temperature(tab, cfg.feature_alpha_max) for ds, tab in mnas_phase.items()}
for ds, tab in mnas_phase.items():
    record_path(CH, "mnas", ds, "phase_diagram")
    save_json(CH, f"mnas_phase_{ds}", {k: v for k, v in tab.items() if k != "curves"})
    fig, ax = subplots(width=6.8, height=4.8)
    sr.figures.plot_phase(tab, mnas_opt[ds], ax)
    save_figure(fig, CH, f"fig5_mnas_phase_{ds}", caption=f"Seed-mean test error of the released MNAS on {ds} "
                "over α and T, with diverged and capped runs and the best temperature of each α.")
    sr.reading.show_mnas_reading(ds, tab, mnas_opt[ds])
show_table([{"data": ds, "k": an.fmt(o.k, o.err_k), "stability edge": an.fmt(o.k_div, o.err_k_div)}
            for ds, o in mnas_opt.items()], caption="MNAS phase diagram: T_opt ∝ α^k")

# %% [markdown]
# ## Claims for the scorecard
#
# Each row names where its target comes from. The paper's body could not be read, so every target here comes
# from its abstract, the authors' APS abstract or a summary of their follow-up paper: the book's tally counts
# none of them, and the rows are shown apart. A number is *reproduced* when the target lies inside our 95 %
# interval (every $\pm$ on this page) and the interval excludes the alternatives a skeptic would propose;
# otherwise *partly*, *inconclusive* or *not reproduced*.

# %%
claims = (sr.claims.fc_claims(cfg, eff, opt, cross, fits, err_tc) + sr.claims.perceptron_claims(cfg, local, pfits)
          + sr.claims.extra_claims(cfg, cross_all, mnas_cross, mnas_opt))
save_claims(CH, claims)
show_verdict_box(CH, claims)
show_table(sr.reading.claim_rows(claims), caption="Chapter 2 scorecard")
glue(n_reproduced=sum(c.verdict == "reproduced" for c in claims if not c.beyond),
     n_claims=sum(not c.beyond for c in claims), wall_min=(time.time() - t_start) / 60)

# %% [markdown]
# ## Explore
#
# Pick $\alpha$ and $T$ of the phase diagram (first seed) and see that run's training curves: $\alpha$ times the
# training loss and the fraction of unfitted points at every full-set check, until the loss is exactly zero.

# %%
index = {(a, T): i for i, (a, T, s) in enumerate(zip(phase["alpha"], phase["T"], phase["seed"])) if s == 0}


def render(alpha, T):
    fig, axes = subplots(2, 1, width=6.8, height=2.4)
    sr.figures.plot_run(phase, index[(sr.reading.from_pow2(alpha), sr.reading.from_pow2(T))], axes)
    return fig


explorer(render, sr.reading.explorer_grid(index), title="One run of the phase diagram", labels={"alpha": "α", "T": "T"})

# %% [markdown]
# ## Closing note
#
# {glue:text}`n_reproduced` of the {glue:text}`n_claims` rows are reproduced in this run; none of them enters
# the book's tally, because no target could be checked against the paper's body. The temperatures reach the divergence limit, every exponent is in the released code's
# units, $T_c$ is where the nets leave the kernel regime, each seed trains on its own data draw, the perceptron's
# exponents are read where $P$ is largest, and verdicts need intervals that exclude the alternatives.

# %% [markdown]
# ## Exercises
#
# 1. **Predict, then change a parameter.** Rerun with five seeds per cell of the lazy sweep. Which numbers should
#    move, and which error bars should shrink?

# %% [markdown]
# ```{admonition} Solution
# :class: dropdown
# The exponents should stay within their error bars; the errors of $a$, $\delta$, $\gamma$ and the standard errors
# of the noise effect shrink roughly like $1/\sqrt{\text{seeds}}$, and now include more data draws.
# ```

# %% [markdown]
# 2. **Where is the stability limit?** In the lazy sweep, runs diverge above a temperature. Using
#    $\mathrm{d}t = T h B$, what step size does that temperature correspond to, and does it depend on $P$?

# %% [markdown]
# ```{admonition} Solution
# :class: dropdown
# The first diverged temperature is quoted under figure 2; multiply by $hB = 2048$ for the step size. In the lazy
# regime the net is close to its linearisation, whose stability depends on the largest eigenvalue of the kernel
# (of order 1 in these units), not on $P$, so the limit is nearly the same for every $P$.
# ```
