"""Reference figures from gbstats 0.8.0 (GrowthBook's stats engine) for libs/experiments' parity spec.

Reads a JSON list of cases on stdin, writes a JSON list of results on stdout. Each case names
the test and gives the sufficient statistics of control (a) and treatment (b) exactly as the
TypeScript side sees them.
"""
import json
import sys

import numpy as np
from scipy.stats import false_discovery_control

from gbstats.bayesian.tests import EffectBayesianABTest, EffectBayesianConfig, GaussianPrior
from gbstats.frequentist.tests import (
    FrequentistConfig,
    SequentialConfig,
    SequentialTwoSidedTTest,
    TwoSidedTTest,
)
from gbstats.models.statistics import (
    ProportionStatistic,
    RatioStatistic,
    RegressionAdjustedStatistic,
    SampleMeanStatistic,
)
from gbstats.utils import check_srm


def stat(s):
    k = s["kind"]
    if k == "mean":
        return SampleMeanStatistic(n=s["n"], sum=s["sum"], sum_squares=s["sumSquares"])
    if k == "proportion":
        return ProportionStatistic(n=s["n"], sum=s["sum"])
    if k == "ratio":
        return RatioStatistic(n=s["n"], m_statistic=stat(s["m"]), d_statistic=stat(s["d"]), m_d_sum_of_products=s["mdSumOfProducts"])
    if k == "ra":
        return RegressionAdjustedStatistic(
            n=s["n"], post_statistic=stat(s["post"]), pre_statistic=stat(s["pre"]),
            post_pre_sum_of_products=s["postPreSumOfProducts"], theta=0,
        )
    raise ValueError(k)


def num(x):
    x = float(x)
    if np.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def holm(p):
    p = np.asarray(p, dtype=float)
    m = len(p)
    order = np.argsort(p, kind="stable")
    out = np.empty(m)
    running = 0.0
    for k, i in enumerate(order):
        running = max(running, min(1.0, (m - k) * p[i]))
        out[i] = running
    return out


def run(case):
    t = case["test"]
    if t == "srm":
        return {"pValue": num(check_srm(case["users"], case["weights"]))}
    if t == "bh":
        return {"adjusted": [num(x) for x in false_discovery_control(case["p"], method="bh")]}
    if t == "holm":
        return {"adjusted": [num(x) for x in holm(case["p"])]}
    a, b = stat(case["a"]), stat(case["b"])
    o = case.get("options", {})
    diff = o.get("differenceType", "relative")
    alpha = o.get("alpha", 0.05)
    if t == "ttest":
        r = TwoSidedTTest(a, b, FrequentistConfig(alpha=alpha, difference_type=diff)).compute_result()
        return {"expected": num(r.expected), "ci": [num(x) for x in r.ci], "pValue": num(r.p_value), "stddev": num(r.uplift.stddev), "errorMessage": r.error_message}
    if t == "sequential":
        cfg = SequentialConfig(alpha=alpha, difference_type=diff, sequential_tuning_parameter=o.get("tuning", 5000))
        r = SequentialTwoSidedTTest(a, b, cfg).compute_result()
        return {"expected": num(r.expected), "ci": [num(x) for x in r.ci], "pValue": num(r.p_value), "stddev": num(r.uplift.stddev), "errorMessage": r.error_message}
    if t == "bayesian":
        prior = o.get("prior", {"mean": 0, "variance": 1, "proper": False})
        cfg = EffectBayesianConfig(
            alpha=alpha, difference_type=diff, inverse=o.get("inverse", False), prior_type=diff,
            prior_effect=GaussianPrior(mean=prior["mean"], variance=prior["variance"], proper=prior["proper"]),
        )
        r = EffectBayesianABTest(a, b, cfg).compute_result()
        return {"chanceToWin": num(r.chance_to_win), "expected": num(r.expected), "ci": [num(x) for x in r.ci], "stddev": num(r.uplift.stddev), "risk": [num(x) for x in r.risk], "errorMessage": r.error_message}
    raise ValueError(t)


if __name__ == "__main__":
    cases = json.load(sys.stdin)
    json.dump([run(c) for c in cases], sys.stdout)
