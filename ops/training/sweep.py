"""Hyper-parameter sweep on the VALIDATION split only (the test split is never scored here).

  python -m ops.training.sweep --data DIR --out DIR [--seeds 0,1,2,3,4] [--only NAME,...]

Every named configuration below is trained for every seed with fit() (best validation epoch kept)
and scored on the validation rows: AUC overall and per domain, mean ± std over seeds, and the
difference to the reference configuration paired by seed. The chosen defaults (TrainConfig,
ModelConfig) come from this table; evaluate.py then reports test metrics for them.
Writes OUT/sweep-valid.json (every run) and OUT/sweep-valid.md.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import sys
import time
from typing import Dict, List

import numpy as np
import torch

from .data import prepare
from .evaluate import diff_stat, fmt, fmt_diff, stat
from .features import DEFAULT_SDIM
from .metrics import report
from .train import ATTENTION_TEMPERATURE, TrainConfig, fit, predict

OLD = {"lr": 2e-3, "weight_decay": 0.0}  # the session-1 recipe
# (name, model kind, TrainConfig overrides, ModelConfig overrides, interest). The first is the reference.
GRID = [
    ("shared_bottom", "shared_bottom", {}, {}, "sdim"),
    ("shared_bottom lr2e-3 wd0", "shared_bottom", OLD, {}, "sdim"),
    ("shared_bottom lr2e-3 wd1e-5", "shared_bottom", {"lr": 2e-3, "weight_decay": 1e-5}, {}, "sdim"),
    ("shared_bottom lr2e-3 wd1e-4", "shared_bottom", {"lr": 2e-3}, {}, "sdim"),
    ("shared_bottom lr2e-3 wd1e-3", "shared_bottom", {"lr": 2e-3, "weight_decay": 1e-3}, {}, "sdim"),
    ("shared_bottom lr2e-3 cosine", "shared_bottom", {"lr": 2e-3, "schedule": "cosine"}, {}, "sdim"),
    ("shared_bottom lr5e-4", "shared_bottom", {"lr": 5e-4}, {}, "sdim"),
    ("domain_towers", "domain_towers", {}, {}, "sdim"),
    ("mmoe", "mmoe", {}, {}, "sdim"),
    ("adaptdhm", "adaptdhm", {}, {}, "sdim"),
    ("adaptdhm lr2e-3 wd0", "adaptdhm", OLD, {}, "sdim"),
    ("adaptdhm soft", "adaptdhm", {}, {"assign": "soft"}, "sdim"),
    ("adaptdhm route on bottom", "adaptdhm", {}, {"routing_source": "bottom"}, "sdim"),
    ("adaptdhm hierarchy full", "adaptdhm", {}, {"hierarchy": "full"}, "sdim"),
    ("adaptdhm K2", "adaptdhm", {}, {"clusters": 2}, "sdim"),
    ("adaptdhm K8", "adaptdhm", {}, {"clusters": 8}, "sdim"),
    ("adaptdhm temperature 1", "adaptdhm", {}, {"routing_temperature": 1.0}, "sdim"),
    ("adaptdhm routing iters 1", "adaptdhm", {}, {"routing_iters": 1}, "sdim"),
    ("adaptdhm cluster decay 1e-3", "adaptdhm", {"cluster_decay": 1e-3}, {}, "sdim"),
    ("adaptdhm cluster decay 0", "adaptdhm", {"cluster_decay": 0.0}, {}, "sdim"),
    ("shared_bottom attention", "shared_bottom", {}, {}, "attention"),
    ("shared_bottom none", "shared_bottom", {}, {}, "none"),
    ("shared_bottom unit interest", "shared_bottom", {}, {"interest_input": "unit"}, "sdim"),
    ("shared_bottom attention unit interest", "shared_bottom", {}, {"interest_input": "unit"}, "attention"),
    ("domain_towers attention", "domain_towers", {}, {}, "attention"),
    ("mmoe attention", "mmoe", {}, {}, "attention"),
    ("adaptdhm attention", "adaptdhm", {}, {}, "attention"),
]


def markdown(res: dict) -> str:
    doms, ref = res["domains"], GRID[0][0]
    lines = [f"Validation AUC (never test), SDIM features {res['sdim']}, mean ± std over seeds {res['seeds']}; difference to `{ref}` paired by seed "
             "(mean ± std [95% t-interval] (seeds >= reference)).", "",
             "| config | AUC | " + " | ".join(f"AUC {d}" for d in doms) + " | best epoch | vs reference |",
             "|---" * (4 + len(doms)) + "|"]
    for name, s in res["summary"].items():
        lines.append(f"| {name} | {fmt(s['auc'])} | " + " | ".join(fmt(s[d]) for d in doms)
                     + f" | {s['bestEpoch']['mean']:.1f} | {fmt_diff(s['vsReference']) if name != ref else ''} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ops.training.sweep", description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seeds", default="0,1,2,3,4")
    ap.add_argument("--only", default="", help="comma-separated config names (default: all)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--sdim-normalize", default="", help="SDIM normalisation of the sdim_interest feature (default: the spec's)")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    seeds = [int(s) for s in a.seeds.split(",") if s]
    only = {s for s in a.only.split(",") if s}
    grid = [g for g in GRID if not only or g[0] in only or g[0] == GRID[0][0]]
    sdim = {**DEFAULT_SDIM, "normalize": a.sdim_normalize} if a.sdim_normalize else None
    prep = prepare(a.data, attention_temperature=ATTENTION_TEMPERATURE, sdim=sdim)
    f, s, doms = prep.feats, prep.split, list(prep.ds.domains)
    runs: Dict[str, List[dict]] = {}
    t0 = time.time()
    for name, kind, train, model, interest in grid:
        for seed in seeds:
            tr = fit(kind, prep, seed, TrainConfig(**train, interest=interest, model=model), log=lambda x: None)
            v = report(f.label[s.valid], predict(tr.model, f.inputs(s.valid, interest)), f.domain[s.valid], doms)
            runs.setdefault(name, []).append({"seed": seed, "bestEpoch": tr.best_epoch, "valid": v,
                                              "validAucByEpoch": [h["validAuc"] for h in tr.history]})
            print(f"{name:40s} seed {seed}: valid AUC {v['overall']['auc']:.4f}", file=sys.stderr, flush=True)
    ref = {r["seed"]: r for r in runs[GRID[0][0]]}
    summary = {}
    for name, rs in runs.items():
        summary[name] = {"auc": stat([r["valid"]["overall"]["auc"] for r in rs]),
                         **{d: stat([r["valid"]["domains"][d]["auc"] for r in rs]) for d in doms},
                         "bestEpoch": stat([r["bestEpoch"] for r in rs]),
                         "vsReference": diff_stat([r["valid"]["overall"]["auc"] - ref[r["seed"]]["valid"]["overall"]["auc"] for r in rs])}
    res = {"data": str(a.data), "split": "valid", "domains": doms, "seeds": seeds, "sdim": prep.spec["sdim"],
           "grid": [{"name": n, "kind": k, "train": t, "model": m, "interest": i} for n, k, t, m, i in grid],
           "summary": summary, "runs": runs, "seconds": round(time.time() - t0, 1)}
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "sweep-valid.json").write_text(json.dumps(res, indent=1) + "\n")
    (out / "sweep-valid.md").write_text(markdown(res))
    print(markdown(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
