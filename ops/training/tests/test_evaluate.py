"""The statistics of the evaluation and sweep tables, and the learning-rate schedule."""
import math

import pytest
import torch

from ops.training.evaluate import diff_stat, t975
from ops.training.train import TrainConfig, lr_schedule


def test_paired_difference_has_a_t_interval_and_a_seed_count():
    s = diff_stat([0.001, -0.002, 0.003, 0.0, 0.002])
    assert s["n"] == 5 and s["nonNegative"] == 4
    assert s["mean"] == pytest.approx(0.0008) and s["std"] == pytest.approx(0.00192354, rel=1e-5)
    half = 2.776 * s["std"] / math.sqrt(5)  # t(0.975, 4) = 2.7764 (printed tables: 2.776)
    assert s["ci95"] == pytest.approx([0.0008 - half, 0.0008 + half], abs=1e-6)  # the table rounds t


def test_t_quantiles_match_the_printed_table_and_fall_with_df():
    assert t975(1) == pytest.approx(12.706, abs=5e-4) and t975(9) == pytest.approx(2.262, abs=5e-4) and t975(30) == pytest.approx(2.042, abs=5e-4)
    assert t975(31) == pytest.approx(2.0395, abs=2e-4) and t975(120) == pytest.approx(1.9799, abs=2e-4)
    assert t975(31) < t975(30)


def test_cosine_schedule_ends_at_zero_and_constant_stays():
    p = torch.nn.Parameter(torch.zeros(1))
    for name, last in (("cosine", 0.0), ("constant", 1e-3)):
        opt = torch.optim.Adam([p], lr=1e-3)
        sched = lr_schedule(opt, TrainConfig(schedule=name), steps=10)
        for _ in range(10):
            opt.step()
            sched.step()
        assert opt.param_groups[0]["lr"] == pytest.approx(last, abs=1e-12)
    with pytest.raises(ValueError):
        lr_schedule(torch.optim.Adam([p]), TrainConfig(schedule="step"), steps=1)


def test_evaluate_compares_sdim_normalisations_on_the_same_seeds(tiny_synth, tmp_path):
    import json

    from ops.training.evaluate import main
    assert main(["--data", str(tiny_synth), "--out", str(tmp_path), "--seeds", "0,1", "--epochs", "1",
                 "--models", "shared_bottom", "--interest-models", "shared_bottom",
                 "--sdim-normalize", "pooled", "--sdim-compare", "l2,pooled"]) == 0
    res = json.loads((tmp_path / "eval.json").read_text())
    assert res["sdim"]["normalize"] == "pooled"
    assert res["interests"] == ["sdim", "attention", "none", "sdim:l2"]  # the feature's own mode is not repeated
    runs = res["runs"]["sdim:l2"]["shared_bottom"]
    assert [r["seed"] for r in runs] == [0, 1]
    v = res["interest"]["shared_bottom"]
    pooled = [r["test"]["overall"]["auc"] for r in res["runs"]["sdim"]["shared_bottom"]]
    l2 = [r["test"]["overall"]["auc"] for r in runs]
    assert v["sdimMinussdim:l2"]["mean"] == pytest.approx(sum(a - b for a, b in zip(pooled, l2)) / 2)
    assert "| shared_bottom | l2 |" in (tmp_path / "eval.md").read_text()
