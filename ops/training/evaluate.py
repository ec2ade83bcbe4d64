"""Evaluation table: every model x seed under the same budget, and the SDIM-vs-attention check.

  python -m ops.training.evaluate --data DIR --out DIR [--seeds 0,1,2] [--epochs N]
      [--models shared_bottom,domain_towers,mmoe,adaptdhm] [--interest-models ...]
      [--sdim-normalize pooled] [--sdim-compare l2,...]

--sdim-normalize sets the SDIM normalisation of the sdim_interest feature (default: the spec's);
--sdim-compare also trains the interest models on SDIM under other normalisations (same tables,
same seeds) and reports them next to attention, paired by seed.

Writes OUT/eval.json (every run, mean and sample std over seeds, paired AdaptDHM margins),
OUT/eval.md (the tables) and OUT/eval.png + eval.svg (the plot). Test metrics are reported for
the epoch with the best validation AUC (the same rule for every model).
"""
from __future__ import annotations

import argparse
import json
import pathlib
import platform
import sys
import time
from typing import Dict, List

import numpy as np
import torch
from scipy.stats import t as student_t

from . import features as F
from . import models as M
from .data import prepare
from .sdim_fast import FastSdim
from .train import ATTENTION_TEMPERATURE, TrainConfig, evaluate, fit

INTERESTS = ("sdim", "attention", "none")


def t975(df: int) -> float:
    """Student t quantile t(0.975, df), from scipy (the two-sided 95% interval's multiplier)."""
    return float(student_t.ppf(0.975, df))


def stat(xs: List[float]) -> Dict[str, float]:
    a = np.asarray(xs, dtype=np.float64)
    return {"mean": float(a.mean()), "std": float(a.std(ddof=1)) if len(a) > 1 else 0.0, "n": int(len(a))}


def diff_stat(xs: List[float]) -> Dict[str, float]:
    """A paired difference: mean, std, the 95% t-interval of the mean and how many seeds are >= 0."""
    out = stat(xs)
    half = t975(out["n"] - 1) * out["std"] / np.sqrt(out["n"]) if out["n"] > 1 else float("nan")
    out.update({"ci95": [out["mean"] - half, out["mean"] + half], "nonNegative": int(sum(x >= 0 for x in xs))})
    return out


def summarise(runs: List[dict], domains: List[str]) -> Dict[str, dict]:
    """runs of one (model, interest): metric -> {mean, std} overall and per domain."""
    out = {"overall": {m: stat([r["test"]["overall"][m] for r in runs]) for m in ("auc", "logloss")}}
    out["domains"] = {d: {m: stat([r["test"]["domains"][d][m] for r in runs]) for m in ("auc", "logloss")} for d in domains}
    out["validAuc"] = stat([r["valid"]["overall"]["auc"] for r in runs])
    out["trainSeconds"] = stat([r["trainSeconds"] for r in runs])
    return out


def paired(a: List[dict], b: List[dict], domains: List[str], metric: str = "auc") -> Dict[str, dict]:
    """Per-seed differences a - b (same seed, same data order), overall and per domain."""
    by_seed = {r["seed"]: r for r in b}
    pairs = [(r, by_seed[r["seed"]]) for r in a if r["seed"] in by_seed]
    out = {"overall": diff_stat([x["test"]["overall"][metric] - y["test"]["overall"][metric] for x, y in pairs])}
    for d in domains:
        out[d] = diff_stat([x["test"]["domains"][d][metric] - y["test"]["domains"][d][metric] for x, y in pairs])
    return out


def fmt(s: dict, digits: int = 4) -> str:
    return f"{s['mean']:.{digits}f} ± {s['std']:.{digits}f}"


def fmt_diff(s: dict) -> str:
    lo, hi = s["ci95"]
    return f"{s['mean']:+.4f} ± {s['std']:.4f} [{lo:+.4f}, {hi:+.4f}] ({s['nonNegative']}/{s['n']})"


def markdown(res: dict) -> str:
    doms = res["domains"]
    b = res["budget"]
    lines = [f"Test metrics, mean ± sample std over {len(b['seeds'])} seeds {b['seeds']} "
             f"({b['epochs']} epochs, batch {b['batchSize']}, Adam lr {b['lr']}, weight decay {b['weightDecay']}, "
             "weights of the best validation epoch).", "",
             "| model | AUC | " + " | ".join(f"AUC {d}" for d in doms) + " | logloss | " + " | ".join(f"logloss {d}" for d in doms) + " |",
             "|---" * (2 + 2 * len(doms) + 1) + "|"]
    for kind, s in res["summary"]["sdim"].items():
        lines.append(f"| {kind} | {fmt(s['overall']['auc'])} | " + " | ".join(fmt(s["domains"][d]["auc"]) for d in doms)
                     + f" | {fmt(s['overall']['logloss'])} | " + " | ".join(fmt(s["domains"][d]["logloss"]) for d in doms) + " |")
    if res["margins"]:
        lines += ["", "AdaptDHM minus baseline, test AUC, paired by seed: mean ± std [95% t-interval of the mean] "
                  "(seeds where AdaptDHM >= baseline):", "",
                  "| baseline | overall | " + " | ".join(doms) + " |", "|---" * (2 + len(doms)) + "|"]
        for base, m in res["margins"].items():
            lines.append(f"| {base} | {fmt_diff(m['overall'])} | " + " | ".join(fmt_diff(m[d]) for d in doms) + " |")
    if res["interest"]:
        lines += ["", f"Interest feature: test AUC with SDIM (`{res['sdim']['normalize']}`), exact target attention (temperature "
                  f"{ATTENTION_TEMPERATURE}) and no interest; SDIM - attention paired by seed:", "",
                  "| model | SDIM | attention | none | SDIM - attention [95% CI] (seeds SDIM >= attention) |", "|---|---|---|---|---|"]
        for kind, v in res["interest"].items():
            lines.append(f"| {kind} | {fmt(v['sdim'])} | {fmt(v['attention'])} | {fmt(v['none'])} | {fmt_diff(v['sdimMinusAttention'])} |")
        lines += ["", "SDIM - attention per domain, test AUC, paired by seed:", "",
                  "| model | " + " | ".join(doms) + " |", "|---" * (1 + len(doms)) + "|"]
        for kind, v in res["interest"].items():
            lines.append(f"| {kind} | " + " | ".join(fmt_diff(v["sdimMinusAttentionByDomain"][d]) for d in doms) + " |")
        alts = [i for i in res.get("interests", INTERESTS) if i.startswith("sdim:")]
        if alts:
            main = res["sdim"]["normalize"]
            lines += ["", f"SDIM normalisation: test AUC of the same models on SDIM with other normalisations (the "
                      f"feature above is `{main}`), paired by seed:", "",
                      "| model | normalisation | AUC | minus attention [95% CI] | "
                      f"`{main}` minus it [95% CI] |", "|---|---|---|---|---|"]
            for kind, v in res["interest"].items():
                for alt in alts:
                    lines.append(f"| {kind} | {alt[5:]} | {fmt(v[alt])} | {fmt_diff(v[alt + 'MinusAttention'])} "
                                 f"| {fmt_diff(v['sdimMinus' + alt])} |")
    if res.get("parameters"):
        lines += ["", "Trainable parameters (all / without the embedding tables): "
                  + ", ".join(f"{k} {v['all']:,} / {v['dense']:,}" for k, v in res["parameters"].items()) + "."]
    return "\n".join(lines) + "\n"


def plot(res: dict, out: pathlib.Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    doms = res["domains"]
    groups = ["overall"] + doms
    kinds = list(res["summary"]["sdim"])
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.6), gridspec_kw={"width_ratios": [3, 2]})
    ax = axes[0]
    w = 0.8 / len(kinds)
    for k, kind in enumerate(kinds):
        s = res["summary"]["sdim"][kind]
        vals = [s["overall"]["auc"]] + [s["domains"][d]["auc"] for d in doms]
        means = [v["mean"] for v in vals]
        errs = [v["std"] for v in vals]
        ax.bar(np.arange(len(groups)) + (k - (len(kinds) - 1) / 2) * w, means, w, yerr=errs, capsize=3, label=kind)
    lo = min(res["summary"]["sdim"][k]["domains"][d]["auc"]["mean"] for k in kinds for d in doms)
    ax.set_ylim(lo - 0.03, None)
    ax.set_xticks(np.arange(len(groups)), groups)
    ax.set_ylabel("test AUC (mean ± std over seeds)")
    ax.set_title(f"{res['data']}: models, same budget")
    ax.legend(fontsize=8)
    ax = axes[1]
    if res["interest"]:
        ik = list(res["interest"])
        names = res.get("interests", INTERESTS)
        w = 0.8 / len(names)
        for j, name in enumerate(names):
            v = [res["interest"][k][name] for k in ik]
            label = f"sdim ({res['sdim']['normalize']})" if name == "sdim" else name
            ax.bar(np.arange(len(ik)) + (j - (len(names) - 1) / 2) * w, [x["mean"] for x in v], w,
                   yerr=[x["std"] for x in v], capsize=3, label=label)
        lo = min(res["interest"][k]["none"]["mean"] for k in ik)
        ax.set_ylim(lo - 0.02, None)
        ax.set_xticks(np.arange(len(ik)), ik, fontsize=8)
        ax.set_title("interest feature: SDIM vs target attention")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "eval.png", dpi=120)
    fig.savefig(out / "eval.svg")
    plt.close(fig)


def count_parameters(model: torch.nn.Module) -> dict:
    total = sum(p.numel() for p in model.parameters())
    emb = sum(p.numel() for n, p in model.named_parameters() if n.startswith("inputs."))
    return {"all": int(total), "dense": int(total - emb)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ops.training.evaluate", description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seeds", default="0,1,2,3,4,5,6,7,8,9")
    ap.add_argument("--epochs", type=int, default=TrainConfig.epochs)
    ap.add_argument("--batch-size", type=int, default=TrainConfig.batch_size)
    ap.add_argument("--lr", type=float, default=TrainConfig.lr)
    ap.add_argument("--weight-decay", type=float, default=TrainConfig.weight_decay)
    ap.add_argument("--models", default=",".join(M.KINDS))
    ap.add_argument("--interest-models", default=",".join(M.KINDS), help="models also trained on attention and on no interest ('' to skip)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--sdim-normalize", default="", help="SDIM normalisation of the sdim_interest feature (default: the spec's)")
    ap.add_argument("--sdim-compare", default="", help="other SDIM normalisations to train the interest models on, e.g. l2")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    seeds = [int(s) for s in a.seeds.split(",") if s != ""]
    kinds = [k for k in a.models.split(",") if k]
    ikinds = [k for k in a.interest_models.split(",") if k]
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    log = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731

    t0 = time.time()
    sdim = {**F.DEFAULT_SDIM, "normalize": a.sdim_normalize} if a.sdim_normalize else None
    prep = prepare(a.data, attention_temperature=ATTENTION_TEMPERATURE if ikinds else None, sdim=sdim)
    alts = [f"sdim:{n}" for n in a.sdim_compare.split(",") if n and n != prep.spec["sdim"]["normalize"]]
    for alt in alts:
        fs = FastSdim.from_spec({**prep.spec["sdim"], "normalize": alt[5:]})
        prep.feats.alt_interest[alt] = F.sdim_interest_rows(prep.spec, prep.items, prep.ds.rows, fs)
    log(f"features ready in {time.time() - t0:.1f}s: {len(prep.ds.rows)} rows, split {prep.spec['training']['rows']}")
    doms = list(prep.ds.domains)
    interests = INTERESTS + tuple(alts)
    runs: Dict[str, Dict[str, List[dict]]] = {i: {} for i in interests}
    params: Dict[str, dict] = {}
    plan = [(k, "sdim") for k in kinds] + [(k, i) for k in ikinds for i in ("attention", "none", *alts)]
    for kind, interest in plan:
        for seed in seeds:
            cfg = TrainConfig(epochs=a.epochs, batch_size=a.batch_size, lr=a.lr, weight_decay=a.weight_decay, interest=interest)
            tr = fit(kind, prep, seed, cfg, log=lambda s: None)
            m = evaluate(tr, prep)
            r = {"model": kind, "interest": interest, "seed": seed, "bestEpoch": tr.best_epoch,
                 "trainSeconds": round(tr.seconds, 2), "history": tr.history, **m}
            runs[interest].setdefault(kind, []).append(r)
            params.setdefault(kind, count_parameters(tr.model))
            log(f"{kind:14s} {interest:9s} seed {seed}: test AUC {m['test']['overall']['auc']:.4f} "
                f"(valid {m['valid']['overall']['auc']:.4f}, best epoch {tr.best_epoch}, {tr.seconds:.1f}s)")
    summary = {i: {k: summarise(v, doms) for k, v in runs[i].items()} for i in interests if runs[i]}
    margins = {}
    if "adaptdhm" in runs["sdim"]:
        margins = {k: paired(runs["sdim"]["adaptdhm"], runs["sdim"][k], doms) for k in runs["sdim"] if k != "adaptdhm"}
    interest = {}
    for k in ikinds:
        if k in runs["sdim"]:
            interest[k] = {i: stat([r["test"]["overall"]["auc"] for r in runs[i][k]]) for i in interests}
            gap = paired(runs["sdim"][k], runs["attention"][k], doms)
            interest[k]["sdimMinusAttention"] = gap["overall"]
            interest[k]["sdimMinusAttentionByDomain"] = {d: gap[d] for d in doms}
            for alt in alts:
                interest[k][f"{alt}MinusAttention"] = paired(runs[alt][k], runs["attention"][k], doms)["overall"]
                interest[k][f"sdimMinus{alt}"] = paired(runs["sdim"][k], runs[alt][k], doms)["overall"]
    res = {"data": str(a.data), "domains": doms, "rows": prep.spec["training"]["rows"],
           "budget": {"seeds": seeds, "epochs": a.epochs, "batchSize": a.batch_size, "lr": a.lr, "weightDecay": a.weight_decay,
                      "selection": "weights of the epoch with the best validation AUC"},
           "attentionTemperature": ATTENTION_TEMPERATURE, "sdim": prep.spec["sdim"], "interests": list(interests),
           "parameters": params, "summary": summary, "margins": margins, "interest": interest, "runs": runs,
           "environment": {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
                           "threads": a.threads, "seconds": round(time.time() - t0, 1)}}
    (out / "eval.json").write_text(json.dumps(res, indent=1) + "\n")
    (out / "eval.md").write_text(markdown(res))
    plot(res, out)
    print(markdown(res))
    log(f"wrote {out}/eval.json, eval.md, eval.png, eval.svg in {time.time() - t0:.0f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
