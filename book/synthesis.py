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
# # One set of networks, four papers: is SGD noise heavy-tailed, and which of its properties matter?
#
# The four papers of this book measure SGD noise on different networks with different statistics and seem to
# disagree: Şimşekli et al. {cite}`simsekli2019tail` read α-stable noise with α well below 2; Xie et al.
# {cite}`xie2023overlooked` find power laws across the coordinates of one gradient but not across iterations;
# Mori et al. {cite}`mori2022powerlaw` describe Gaussian noise whose size follows the loss, with heavy tails in the
# *parameters*; Sclocchi et al. {cite}`sclocchi2023dissecting` say the temperature $T = \eta/B$ is what matters.
# This chapter trains one set of networks once, measures all four papers' quantities at the same checkpoints on
# the same noise samples with the chapters' own estimators, and runs four experiments that decide between them.
# Every row below goes beyond the papers: none enters a paper's tally.
#
# ```{glue:} verdict_box
# ```

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
n_seeds: "Optional[int]" = None  # seeds per (net, loss, T, B) (None: profile preset)
n_train: "Optional[int]" = None  # training subset size (None: profile preset)
epochs: "Optional[int]" = None  # training epochs (None: profile preset)

# %% tags=["remove-input"]
import time
import warnings

warnings.simplefilter("ignore", FutureWarning)  # torch.jit deprecation notices of imported libraries
warnings.filterwarnings("ignore", message="constrained_layout not applied")  # layout notice, not a result

from paper_repro.core.fetch import fetch_all
from paper_repro.core.results import glue, save_claims, save_json
from paper_repro.experiments import synthesis as sy
from paper_repro.experiments.synthesis import analysis as an, claims as syc, figures as syf
from paper_repro.experiments.synthesis import reading as syr, run as syrun, synth
from paper_repro.pipeline.sweep import SweepOptions
from paper_repro.present.display import show_params, show_table
from paper_repro.present.plotting import save_figure
from paper_repro.present.scorecard import show_verdict_box

cfg = sy.make_config(profile, device=device, n_seeds=n_seeds, n_train=n_train, epochs=epochs)
cfg = sy.shrink(cfg) if shrink else cfg
opts = SweepOptions(executor=executor, slurm_partition=slurm_partition, gpus_per_node=gpus_per_node,
                    timeout_min=timeout_min, array_parallelism=array_parallelism)
fetch_all(sy.datasets(cfg))
t_start = time.time()

# %% [markdown]
# ## The shared runs
#
# Each net is trained with plain SGD (no momentum, no weight decay) on its dataset: a one-hidden-layer ReLU net
# on MNIST and LeNet-5 on Fashion-MNIST, with Mori et al.'s half squared error on one-hot targets (MSE) and with
# cross-entropy (CE). Every temperature $T = \eta/B$ runs at two batch sizes ($\eta = TB$), so an effect of $T$
# can be told from an effect of $B$, and every run has the same number of epochs, hence the same gradient-flow time
# $\eta \times$ steps at one $T$. At each checkpoint (initialisation, early, middle, end) we take the per-sample
# gradients of a fixed pool of {glue:text}`n_pool` training samples, draw {glue:text}`n_batches` minibatches of the
# run's $B$ from it, and call the noise the minibatch gradient minus the pool's gradient. Every paper's quantity is
# computed from these samples by its chapter's function. Coordinates whose gradient is zero on the whole pool (dead
# units) carry no noise and are left out. The unit of replication is the seed: {glue:text}`n_seeds` per setting.

# %%
show_params(cfg, ["nets", "losses", "temperatures", "batch_sizes", "n_seeds", "n_train", "epochs", "stages",
                  "n_pool", "n_batches"])
rows = syrun.run_all(cfg, opts)
syr.record_paths(rows)
end = [r for r in rows if r.get("last")]

# %% [markdown]
# ## a. Is the pooled tail index a scale mixture?
#
# Pool the $B \times P$ noise matrix into one vector and the Mohammadi estimator reads α̂ well below 2. But the
# coordinates have very different variances. Replace the noise by **Gaussian** noise with exactly the measured
# per-coordinate variances (and, as a variant, with the measured low-rank covariance) and pool it the same way.
# If the Gaussian reads the same α̂, heterogeneity of scales, not heavy tails, makes the pooled number. The rule:
# the fraction $(2 - \hat\alpha_{\rm mix})/(2 - \hat\alpha_{\rm pooled})$ exceeds one half by two standard errors
# (over seeds). Its controls: Gaussian noise with log-normal scales (the rule should say *holds*) and i.i.d.
# stable noise of equal scales (it should say *does not hold*).

# %%
rows_a, ctrl_a = synth.mechanism_a(end, cfg, (cfg.n_batches, 2000))
save_figure(syf.scale_mixture(end, ctrl_a), sy.CHAPTER, "scale_mixture",
            caption="Pooled tail index of the measured noise against that of Gaussian noise with the same "
                    "per-coordinate variances, one point per run, and the rule's controls.")

# %% [markdown]
# **Reading.** Points near the diagonal are runs whose pooled α̂ a Gaussian with the same scales reproduces
# (filled: robust scales, the rule's input; open: the sample variances, which heavy-tailed data inflate at random,
# so that even equal-scale stable noise would look like a scale mixture).
# Fraction of $2 - \hat\alpha$ explained by the robust scales alone: {glue:text}`all_explained`; pooled α̂
# (fixed $K_1$) {glue:text}`all_alpha_pooled` against the robust scale mixture's {glue:text}`all_mix_robust`
# (sample variances: {glue:text}`all_mix_diag`; low-rank covariance: {glue:text}`all_mix_lowrank`). The right panel shows how often the rule gives each verdict on data
# where the answer is known.
#
# ## b. Is each coordinate heavy-tailed?
#
# Take the {glue:text}`top_coords` highest-variance coordinates and estimate α̂ of each across the minibatches.
# With {glue:text}`n_batches` samples the estimator is biased, so we read it against the same estimator on
# Gaussian samples of that size (the control), and on stable samples with α = 1.5 (the alternative).

# %%
rows_b, ctrl_b, gauss_b = synth.mechanism_b(end, cfg)
save_figure(syf.coordinate_tails(end, gauss_b, ctrl_b), sy.CHAPTER, "coordinate_tails",
            caption="Tail index of single high-variance coordinates across minibatches against Gaussian samples "
                    "of the same size, and the rule's controls.")

# %% [markdown]
# **Reading.** The black outline is what the estimator reads on Gaussian data of this size. Mean per-coordinate
# α̂: {glue:text}`all_coord_mean`; share of those coordinates passing Xie et al.'s power-law test:
# {glue:text}`all_coord_pass`. Chapter 1's standardised, calibrated reading of all coordinates:
# {glue:text}`all_alpha_std_cal`.
#
# ## c. Heavy-tailed iterates from light-tailed noise
#
# Mori et al. predict that noise proportional to the loss makes the *parameters* heavy-tailed,
# $P(\theta) \propto L(\theta)^{-\varphi}$ with $\varphi = 1 + B/(\eta h^*)$, even when each noise draw is
# Gaussian-like. On chapter 3's linear model we fit $\varphi$ to the stationary losses (chapter 3's estimator),
# compare it with Mori et al.'s continuous-time formula and with chapter 3's exact value for the discrete chain,
# and, from the same model, measure the tail of the minibatch noise with the Hill estimator (a light tail reads
# above 2). On the nets, each run continues SGD at its $T$ after training and records the iterates along the top
# Hessian eigenvector; their
# Hill index is compared with the predicted tail $2\varphi - 1$.

# %%
lin = an.linear_iterates(cfg)
rows_c = synth.mechanism_c(lin, end)
save_figure(syf.iterate_tails(lin, end), sy.CHAPTER, "iterate_tails",
            caption="Left: stationary loss density of linear-regression SGD with the predicted power laws (dashed: "
                    "Mori et al., dotted: exact chain). "
                    "Right: tail index of the nets' late iterates against the prediction.")

# %% [markdown]
# **Reading.** Left: markers are the measured densities, dashed lines the densities of Mori et al.'s $\varphi$,
# dotted lines those of chapter 3's exact-chain $\varphi$.
# Fitted φ̂ {glue:text}`lin0_phi:.2f` against {glue:text}`lin0_theory:.2f` ({glue:text}`lin0_setting`; chapter 3's
# exact-chain value {glue:text}`lin0_chain:.2f`), while the noise of the same model has a Hill index of
# {glue:text}`lin0_hill:.1f`. Its pooled Mohammadi α̂ reads {glue:text}`lin0_noise:.2f` against
# {glue:text}`lin0_gauss:.2f` for a Gaussian sample of the same size: that estimator assumes a stable law and is
# not a test of light tails. Right: on the nets $\eta h^*/B$ is small, so the predicted tail exponent is large
# (median φ {glue:text}`all_phi_median`); the late iterates' Hill index is {glue:text}`all_hill_median`, read on a
# few hundred correlated samples, where a Gaussian sample of the same length reads
# {glue:text}`iter_gauss_hill:.2f`.
#
# ## d. Temperature or batch size?
#
# For every quantity we regress its end-of-training value on $\log T$ and $\log B$ over all runs of a net (both
# losses): a significant slope on $\log B$ means the quantity changes with $B$ at fixed $T$.

# %%
rows_d, temp, ctrl_d = synth.mechanism_d(end, cfg)
save_figure(syf.temperature(end, temp, ctrl_d), sy.CHAPTER, "temperature",
            caption="Pooled tail index and test error against T for each batch size, t values of the slopes on "
                    "log T and log B for every quantity, and the rule's controls.")

# %% [markdown]
# **Reading.** Top: solid and dotted lines of one colour are the two batch sizes; where they overlap, $T$ alone
# sets the quantity. Bottom left: bars beyond the dashed lines are slopes of more than two standard errors.
# Depends on $T$ only: {glue:text}`all_dep_T`. On $B$ only: {glue:text}`all_dep_B`. On both:
# {glue:text}`all_dep_T_and_B`. On neither: {glue:text}`all_dep_neither`.
#
# ## Who is right about what
#
# One row per claim of each paper, measured on the shared runs at the end of training.

# %%
table = syc.who_is_right(rows, lin, temp)
show_table([{k: r[k] for k in ("paper", "claim", "net", "measured", "verdict", "why")} for r in table],
           caption="The four papers' claims on one set of runs", collapse_after=40)

# %%
synth_rows = rows_a + rows_b + rows_c + rows_d
show_table(synth.verdict_words(synth_rows), caption="Synthesis: the mechanism experiments", collapse_after=40)
claims = syc.as_claims(table, synth_rows, cfg.profile)
save_claims(sy.CHAPTER, claims)
show_verdict_box(sy.CHAPTER, claims)

# %% [markdown]
# ## Explore
#
# Pick a net, a temperature and a checkpoint (0: initialisation, last: end of training): the panels show the
# tail-index readings, Xie et al.'s pass rates and Sclocchi et al.'s quantities for each loss and batch size
# (mean over seeds, bars: two standard errors). The frames are precomputed, so the controls work in the static book.

# %%
from paper_repro.present.widgets import explorer

stages = sorted({r["stage"] for r in rows if "stage" in r})
grid = {"net": list(cfg.nets), "T": list(cfg.temperatures), "checkpoint": stages}
explorer(syf.explorer_renderer(rows), grid, title="Four papers' quantities on one run",
         labels={"net": "net", "T": "T", "checkpoint": "checkpoint"})

# %% [markdown]
# ## What we measured

# %%
head = syr.headline(rows, lin, temp, cfg)
save_json(sy.CHAPTER, "headline", head)
glue(**head, wall_s=time.time() - t_start)

# %% [markdown]
# **Closing note ({glue:text}`n_runs` runs, {glue:text}`n_diverged` diverged, T from {glue:text}`t_min` to
# {glue:text}`t_max`, B in {glue:text}`b_list`, {glue:text}`wall_s:.0f` s).**
#
# * *Pooled α̂:* {glue:text}`all_alpha_sqrt_n` at $K_1 \approx \sqrt N$; at the fixed $K_1$ it reads
#   {glue:text}`all_alpha_pooled`, and Gaussian noise with the same robust per-coordinate scales reads
#   {glue:text}`all_mix_robust`: the scales alone explain {glue:text}`all_explained` of the distance from 2.
# * *Each coordinate, standardised and calibrated:* {glue:text}`all_alpha_std_cal`; the highest-variance
#   coordinates one by one (median α̂): {glue:text}`all_coord_mean`.
# * *Xie et al.:* dimension-wise pass rate {glue:text}`all_dim_pass`, iteration-wise {glue:text}`all_iter_pass`,
#   covariance spectrum exponent $s$ {glue:text}`all_spectrum_s`.
# * *Mori et al.:* slope of $\log \mathcal N$ on $\log L$ (MSE) {glue:text}`all_nl_slope`; linear model φ̂
#   {glue:text}`lin0_phi:.2f` against φ = {glue:text}`lin0_theory:.2f` (exact chain {glue:text}`lin0_chain:.2f`);
#   nets' late iterates: Hill index {glue:text}`all_hill_median` where φ = {glue:text}`all_phi_median` predicts a
#   light tail.
# * *Temperature:* quantities set by $T$ alone: {glue:text}`all_dep_T`; by $B$ at fixed $T$ as well:
#   {glue:text}`all_dep_T_and_B`.

# %% [markdown]
# ## Exercises
#
# 1. **Predict, then run.** Halve the pool of per-sample gradients. Which reading moves more: the pooled α̂ or
#    the per-coordinate α̂? Why?

# %% [markdown]
# ```{admonition} Solution
# :class: dropdown
# The per-coordinate α̂ is estimated from the minibatches only, so the pool size changes it little. The pooled α̂
# mixes coordinates whose variances are estimated on the pool; a smaller pool makes minibatches overlap more and
# the noise smaller but keeps the spread of scales, so the pooled reading, set by that spread, stays low. Compare
# with the scale mixture in figure a: it moves with the pooled value.
# ```

# %% [markdown]
# 2. **Change the rule.** Mechanism a asks for more than half of $2 - \hat\alpha$. Write the fraction for a
#    network whose pooled α̂ is 1.9. Why is the rule then uninformative, and what would you report instead?

# %% [markdown]
# ```{admonition} Solution
# :class: dropdown
# With $2 - \hat\alpha = 0.1$ the denominator is of the order of the estimator's error, so the fraction's standard
# error is huge and the rule returns *inconclusive*. Report the two α̂ readings with their intervals instead: the
# question "what makes α̂ small" has no content when α̂ is not small.
# ```

# %% [markdown]
# 3. **Check the prediction.** With `an.linear_iterates`, raise $B$ at fixed $\eta$. How should φ̂ move, and what
#    happens to the noise's α̂?

# %% [markdown]
# ```{admonition} Solution
# :class: dropdown
# φ = 1 + B/(η h*) grows linearly in $B$: the iterates' tails get lighter. The noise's α̂ stays at the Gaussian
# value at every $B$ (each draw is a mean of $B$ light-tailed terms): the heavy tail of the parameters comes from the
# multiplicative structure of the noise, not from heavy-tailed draws.
# ```
