"""Trainer (divergence recorded), results files, widgets (kernel-free links), models."""
import dataclasses
import json

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from torch import nn

from paper_repro.core import models, results, train
from paper_repro.present import widgets


def test_sgd_learns_and_records_divergence():
    torch.manual_seed(0)
    x = torch.randn(256, 5)
    y = x @ torch.tensor([1.0, -2.0, 0.5, 0.0, 3.0])
    model = models.mlp(5, [], 1, bias=False, init="standard")
    mse = lambda out, t: ((out.reshape(-1) - t) ** 2).mean()  # noqa: E731
    res = train.sgd_train(model, mse, x, y, lr=0.05, batch_size=32, steps=400, seed=1,
                          callback=lambda step, m: step, every=100)
    assert not res.diverged and res.steps_run == 400 and res.losses[-1] < 1e-3 * res.losses[0]
    assert res.records == [0, 100, 200, 300, 400]
    blown = train.sgd_train(models.mlp(5, [], 1), mse, x, y * 1e3, lr=50.0, batch_size=32, steps=400)
    assert blown.diverged and blown.steps_run < 400 and not np.isfinite(blown.losses[-1])


def test_results_are_valid_json_and_npz(tmp_path):
    path = results.save_json("demo", "r", {"a": np.float32(1.5), "b": float("nan"), "c": torch.arange(3)})
    assert json.loads(path.read_text()) == {"a": 1.5, "b": None, "c": [0, 1, 2]}
    npz = results.save_npz("demo", "arr", x=torch.ones(2, 2))
    assert np.load(npz, allow_pickle=False)["x"].shape == (2, 2)
    claim = results.Claim(id="k", statement="noise is heavy-tailed", paper_value="alpha < 2", ours="alpha = 1.3",
                          verdict="reproduced", dataset="mnist", profile="quick")
    results.save_claims("demo", [claim])
    assert results.load_claims()["demo"][0]["ours"] == "alpha = 1.3"
    with pytest.raises(ValueError, match="verdict"):
        results.Claim(id="k", statement="s", paper_value="p", ours="o", verdict="maybe", dataset="mnist",
                      profile="quick")


def test_explorer_links_every_stack_to_its_slider():
    calls = []

    def render(a, b):
        calls.append((a, b))
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, a * b])
        return fig

    box = widgets.explorer(render, {"a": [1, 2], "b": [0.5, 1.0, 2.0]}, live_controls={"a": (0.0, 3.0)})
    assert sorted(calls) == sorted((a, b) for a in [1, 2] for b in [0.5, 1.0, 2.0])
    explorer = box.children[0]
    sliders, outer = explorer.children[0].children, explorer.children[1]
    assert [s.description for s in sliders] == ["a", "b"] and len(outer.children) == 2
    from ipywidgets.embed import embed_data  # the state the static HTML page receives

    states = embed_data(views=[box])["manager_state"]["state"].values()
    links = [s["state"] for s in states if s["model_name"] == "LinkModel"]
    linked = {(ln["source"][0].removeprefix("IPY_MODEL_"), ln["target"][0].removeprefix("IPY_MODEL_")) for ln in links}
    assert (sliders[0].model_id, outer.model_id) in linked
    assert all((sliders[1].model_id, inner.model_id) in linked for inner in outer.children)
    frames = [img.value for inner in outer.children for img in inner.children]
    assert len(frames) == 6 and all(f[:4] == b"\x89PNG" for f in frames)


def test_models_shapes():
    assert models.mlp(784, [100, 100], 1, init="glorot")(torch.zeros(2, 1, 28, 28)).shape == (2, 1)
    assert models.alexnet_like(8)(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    assert models.lenet()(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    assert models.vgg_small((8, 16, 32))(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    assert not any(isinstance(m, nn.Linear) and m.bias is not None for m in models.mlp(4, [3], 2))
    with pytest.raises(ValueError, match="activation"):
        models.mlp(4, [3], 2, activation="swish")


def test_scorecard_and_execution_report_tables():
    from paper_repro.present import pages, site

    claims = {"a": [dict(id="x", statement="noise | heavy", paper_value="alpha < 2", ours="1.3", verdict="partly",
                         dataset="mnist", profile="quick", detail="")]}
    table = site.scorecard_markdown(claims, [("a", "Chapter A"), ("b", "Chapter B")])
    assert "noise | heavy" in table and 'pr-badge pr-partly">partly' in table
    assert "Not run" in table.rsplit("Chapter B", 1)[1] and site.tally(claims["a"])["partly"] == 1
    report = pages.execution_report_markdown([dict(chapter="a", profile="smoke", device="cpu", seconds=12.5,
                                                  finished="2026-01-01T00:00:00+00:00", widget_state_bytes=2e6)])
    assert "| 12.5 |" in report and "| 2.00 |" in report and "Total: 12.5 s" in report
    report = pages.execution_report_markdown([dict(chapter="a", profile="quick", device="cpu", seconds=1.0,
                                                   finished="x", commit="ab12cd34ef+dirty", seeds={"seed": 3},
                                                   packages={"torch": "2.14.1", "numpy": "2.1.0"}, python="3.11.2")])
    assert "ab12cd34ef+dirty" in report and "seed = 3" in report and "torch 2.14.1, numpy 2.1.0" in report


def test_provenance_names_commit_seeds_and_packages():
    from paper_repro.pipeline import chapters, execute

    ch = chapters.find_chapter("escape_rate")  # its make_config(profile, **overrides) has a seed field
    prov = execute.provenance(ch, {"profile": "smoke", "seed": 7})
    assert prov["seeds"] == {"seed": 7} and prov["packages"]["torch"] == torch.__version__.split("+")[0]
    assert prov["commit"] == "" or len(prov["commit"].split("+")[0]) == 10


def test_tally_counts_only_stated_targets_and_box_links_rows():
    from paper_repro.core.results import Claim
    from paper_repro.present import scorecard

    common = dict(paper_value="x", ours="1.0 ± 0.1", dataset="mnist", profile="quick")
    rows = [Claim("a", "A holds", verdict="reproduced", figure="fig1", **common),
            Claim("b", "B holds", verdict="not reproduced", basis="abstract", **common),
            Claim("c", "C holds", verdict="partly", basis="released code", **common),
            Claim("d", "D holds", verdict="reproduced", beyond=True, basis="derived here", **common)]
    counts = scorecard.tally(rows)
    assert (counts["reproduced"], counts["partly"], counts["not reproduced"]) == (1, 1, 0)
    assert [r["id"] for r in scorecard.shown_apart(rows)] == ["b"]
    box = scorecard.verdict_box_html("ch", rows)
    assert "A holds." in box and "C holds." in box and "B holds" not in box
    assert 'href="scorecard.html#claim-ch-a"' in box and 'href="#fig-ch-fig1"' in box
    assert "1 more row whose target the paper does not state" in box and "1 more row beyond the paper" in box
    only_apart = scorecard.verdict_box_html("ch", [rows[1], rows[3]])
    assert "B holds." in only_apart and "none counted" in only_apart and "D holds" not in only_apart
    with pytest.raises(Exception, match="basis"):
        Claim("e", "E", verdict="reproduced", basis="hearsay", **common)
    page = scorecard.scorecard_markdown({"ch": [dataclasses.asdict(r) for r in rows]}, [("ch", "Chapter")])
    assert 'id="claim-ch-a"' in page and "without a stated target" in page


def test_recorded_costs_merge_and_table(tmp_path):
    from paper_repro.pipeline import costs

    path = tmp_path / "costs.json"
    row = {"chapter": "a", "profile": "smoke", "device": "cpu", "hardware": "2-core CPU", "seconds": 30.0,
           "finished": "2026-11-23T01:00:00+00:00", "torch": "2.14.1", "host": "x"}
    costs.record([row, {**row, "chapter": "c", "profile": "quick"}], path)
    old = {k: v for k, v in row.items() if k != "hardware"}  # stamped before run times carried the hardware
    costs.record([{**row, "seconds": 42.0}, {**old, "chapter": "b"}], path)
    entries = costs.load(path)
    assert [(e["chapter"], e["profile"], e["seconds"]) for e in entries] == [("a", "smoke", 42.0),
                                                                              ("c", "quick", 30.0)]
    table = costs.costs_markdown(entries, ["a", "b"])
    assert "| [a](a) | 42 s (2-core CPU, 2026-11-23) | not measured |" in table
    assert "| [b](b) | not measured | not measured | not measured | not measured |" in table
