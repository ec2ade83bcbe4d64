"""The evaluation's figures equal the reference libraries' on fixed data: AUC (metrics.auc, report)
against scikit-learn's roc_auc_score and scipy's Mann-Whitney U, and the 95% t-intervals of the
paired differences (evaluate.diff_stat, paired) against scipy.stats.t.interval."""
import math

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from ops.training.evaluate import diff_stat, paired, t975
from ops.training.metrics import auc, report

# Fixed data: 40 labelled scores with ties (scores rounded to one decimal), three domains.
RNG = np.random.default_rng(20240611)
LABELS = RNG.integers(0, 2, 40)
SCORES = np.round(np.clip(0.3 * LABELS + RNG.normal(0.4, 0.25, 40), 0, 1), 1)
DOMAIN = np.arange(40) % 3


def test_auc_by_hand_on_four_points():
    # pairs (pos, neg): (0.35, 0.1) yes, (0.35, 0.4) no, (0.8, 0.1) yes, (0.8, 0.4) yes -> 3/4
    assert auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])) == 0.75
    # a tie between a positive and a negative counts one half
    assert auc(np.array([0, 1]), np.array([0.5, 0.5])) == 0.5


def test_auc_equals_scikit_learn_and_the_mann_whitney_u_with_ties():
    assert len(np.unique(SCORES)) < len(SCORES)  # the data has ties
    pos, neg = SCORES[LABELS == 1], SCORES[LABELS == 0]
    u = stats.mannwhitneyu(pos, neg, alternative="two-sided").statistic
    assert auc(LABELS, SCORES) == roc_auc_score(LABELS, SCORES)
    assert auc(LABELS, SCORES) == pytest.approx(u / (len(pos) * len(neg)), abs=1e-12)


def test_report_per_domain_equals_scikit_learn_and_is_nan_without_both_classes():
    r = report(LABELS, SCORES, DOMAIN, ["a", "b", "c"])
    assert r["overall"]["auc"] == roc_auc_score(LABELS, SCORES)
    for k, name in enumerate(["a", "b", "c"]):
        m = DOMAIN == k
        assert r["domains"][name]["auc"] == roc_auc_score(LABELS[m], SCORES[m])
        assert r["domains"][name]["n"] == int(m.sum())
    one_class = report(np.array([1, 1, 0]), np.array([0.2, 0.9, 0.4]), np.array([0, 0, 1]), ["x", "y"])
    assert math.isnan(one_class["domains"]["x"]["auc"]) and math.isnan(one_class["domains"]["y"]["auc"])


def test_t_quantiles_equal_scipy_and_the_printed_table():
    for df in (1, 2, 4, 9, 19, 30, 31, 120, 1000):
        assert t975(df) == stats.t.ppf(0.975, df)
    # the classic printed table (3 decimals), an independent check of the direction and the level
    assert [round(t975(df), 3) for df in (1, 4, 9, 30)] == [12.706, 2.776, 2.262, 2.042]


def test_paired_difference_intervals_equal_scipy_t_interval():
    xs = list(np.round(RNG.normal(0.001, 0.002, 7), 5))
    s = diff_stat(xs)
    lo, hi = stats.t.interval(0.95, len(xs) - 1, loc=np.mean(xs), scale=stats.sem(xs))
    assert s["ci95"] == pytest.approx([lo, hi], rel=1e-12, abs=1e-15)
    assert s["std"] == pytest.approx(np.std(xs, ddof=1), rel=1e-12)


def test_evaluation_pairs_runs_by_seed_and_its_intervals_equal_scipy():
    def run(seed, overall, a):
        return {"seed": seed, "test": {"overall": {"auc": overall}, "domains": {"a": {"auc": a}}}}

    sdim = [run(0, 0.71, 0.70), run(1, 0.72, 0.69), run(2, 0.715, 0.71), run(3, 0.70, 0.705)]
    att = [run(3, 0.702, 0.70), run(1, 0.719, 0.695), run(0, 0.712, 0.699), run(2, 0.713, 0.70)]  # other order
    p = paired(sdim, att, ["a"])
    d = [0.71 - 0.712, 0.72 - 0.719, 0.715 - 0.713, 0.70 - 0.702]
    assert p["overall"]["mean"] == pytest.approx(np.mean(d), abs=1e-15)
    assert p["overall"]["ci95"] == pytest.approx(list(stats.t.interval(0.95, 3, loc=np.mean(d), scale=stats.sem(d))), rel=1e-9)
    assert p["overall"]["nonNegative"] == 2
    da = [0.70 - 0.699, 0.69 - 0.695, 0.71 - 0.70, 0.705 - 0.70]
    assert p["a"]["ci95"] == pytest.approx(list(stats.t.interval(0.95, 3, loc=np.mean(da), scale=stats.sem(da))), rel=1e-9)
