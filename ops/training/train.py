"""Trains one model and exports it (CONTRACT.md section 5).

  python -m ops.training.train --data DIR --model adaptdhm --epochs 1 --seed 0 --out OUT
      [--interest sdim|attention|none] [--batch-size 1024] [--lr 0.001] [--weight-decay 0.0001]

Writes OUT/model.onnx, feature-spec.json, metrics.json, catalog.jsonl and parity.json; exits 1 when
ONNX Runtime and PyTorch differ by more than 1e-5 on the held-out rows.
Budget (the same for every model): `epochs` passes over the train rows in seeded random order,
Adam with L2 weight decay, fixed batch size; the weights of the epoch with the best validation AUC are kept.
"""
from __future__ import annotations

import argparse
import copy
import json
import math
import pathlib
import sys
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np
import torch
import torch.nn.functional as Fn

from . import models as M
from .data import Prepared, prepare
from .features import FEATURES
from .metrics import auc, report

ATTENTION_TEMPERATURE = 1.0  # libs/sdim targetAttention's default


@dataclass
class TrainConfig:
    epochs: int = 6
    batch_size: int = 1024
    lr: float = 1e-3  # chosen on validation AUC (bench/results/training/sweep-valid.md)
    weight_decay: float = 1e-4  # Adam's L2 term, on every parameter
    cluster_decay: Optional[float] = None  # adaptdhm: weight decay of the cluster deviations (None: weight_decay)
    schedule: str = "constant"  # constant | cosine (per step, from lr to 0 over the epochs)
    interest: str = "sdim"  # sdim | attention | none
    model: dict = field(default_factory=dict)  # ModelConfig overrides (e.g. clusters=8)


@dataclass
class Trained:
    model: torch.nn.Module
    kind: str
    seed: int
    cfg: TrainConfig
    history: List[dict] = field(default_factory=list)
    best_epoch: int = 0
    seconds: float = 0.0


def to_tensors(feeds: Dict[str, np.ndarray]) -> List[torch.Tensor]:
    return [torch.from_numpy(np.ascontiguousarray(feeds[n])) for n in FEATURES]


@torch.no_grad()
def predict(model: torch.nn.Module, feeds: Dict[str, np.ndarray], batch: int = 8192) -> np.ndarray:
    model.eval()
    t = to_tensors(feeds)
    n = len(t[0])
    out = [torch.sigmoid(model(*[x[i:i + batch] for x in t])[0]) for i in range(0, n, batch)]
    return torch.cat(out).numpy() if out else np.zeros(0, np.float32)


def param_groups(model: torch.nn.Module, cfg: TrainConfig) -> List[dict]:
    """The cluster deviations of AdaptDHM (towers.wk / towers.bk, zero = the shared tower) may decay
    at their own rate: weight decay pulls them towards the shared tower, not towards zero weights."""
    dev = [p for n, p in model.named_parameters() if n.startswith(("towers.wk.", "towers.bk."))]
    rest = [p for n, p in model.named_parameters() if not n.startswith(("towers.wk.", "towers.bk."))]
    decay = cfg.weight_decay if cfg.cluster_decay is None else cfg.cluster_decay
    return [g for g in ({"params": rest, "weight_decay": cfg.weight_decay}, {"params": dev, "weight_decay": decay}) if g["params"]]


def lr_schedule(opt, cfg: TrainConfig, steps: int):
    if cfg.schedule == "constant":
        return torch.optim.lr_scheduler.LambdaLR(opt, lambda i: 1.0)
    if cfg.schedule == "cosine":
        return torch.optim.lr_scheduler.LambdaLR(opt, lambda i: 0.5 * (1.0 + math.cos(math.pi * min(i, steps) / max(steps, 1))))
    raise ValueError(f"schedule is constant|cosine, not {cfg.schedule!r}")


def fit(kind: str, prep: Prepared, seed: int, cfg: TrainConfig, log=print) -> Trained:
    torch.manual_seed(seed)
    np.random.seed(seed)
    model = M.build(kind, M.ModelConfig.from_spec(prep.spec, **cfg.model))
    f, split = prep.feats, prep.split
    train = to_tensors(f.inputs(split.train, cfg.interest))
    y = torch.from_numpy(f.label[split.train])
    valid_feeds = f.inputs(split.valid, cfg.interest)
    opt = torch.optim.Adam(param_groups(model, cfg), lr=cfg.lr)
    gen = torch.Generator().manual_seed(seed)
    res = Trained(model, kind, seed, cfg)
    best, best_state = -1.0, None
    t0 = time.time()
    n = len(y)
    sched = lr_schedule(opt, cfg, steps=cfg.epochs * -(-n // cfg.batch_size))
    for epoch in range(1, cfg.epochs + 1):
        model.train()
        perm = torch.randperm(n, generator=gen)
        total = 0.0
        for i in range(0, n, cfg.batch_size):
            idx = perm[i:i + cfg.batch_size]
            logit, _ = model(*[x[idx] for x in train])
            loss = Fn.binary_cross_entropy_with_logits(logit, y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
        v = auc(f.label[split.valid], predict(model, valid_feeds)) if len(split.valid) else float("nan")
        res.history.append({"epoch": epoch, "trainLoss": total / max(n, 1), "validAuc": v})
        log(f"{kind} seed={seed} epoch {epoch}: train loss {total / max(n, 1):.4f}, valid AUC {v:.4f}")
        if not (v <= best):  # NaN (no valid rows) keeps the latest epoch
            best, best_state, res.best_epoch = v, copy.deepcopy(model.state_dict()), epoch
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    res.seconds = time.time() - t0
    return res


def evaluate(tr: Trained, prep: Prepared) -> dict:
    f, s, dom = prep.feats, prep.split, prep.ds.domains
    out = {}
    for name, idx in (("valid", s.valid), ("test", s.test)):
        p = predict(tr.model, f.inputs(idx, tr.cfg.interest))
        out[name] = report(f.label[idx], p, f.domain[idx], dom)
    if isinstance(tr.model, M.AdaptDHM):
        u = tr.model.usage.numpy()
        r = predict_routing(tr.model, f.inputs(s.test, tr.cfg.interest))
        out["clusters"] = {"trainAssignmentShare": (u / max(u.sum(), 1)).round(4).tolist(),
                           "testAssignmentShare": np.bincount(r.argmax(1), minlength=r.shape[1]).tolist(),
                           "testShareByDomain": {d: np.bincount(r[f.domain[s.test] == k].argmax(1), minlength=r.shape[1]).tolist()
                                                 for k, d in enumerate(dom)}}
    return out


@torch.no_grad()
def predict_routing(model, feeds) -> np.ndarray:
    model.eval()
    return model(*to_tensors(feeds))[1].numpy()


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ops.training.train", description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True, help="folder with u.data, u.item, u.user, u.genre")
    ap.add_argument("--model", required=True, choices=M.KINDS)
    ap.add_argument("--epochs", type=int, default=TrainConfig.epochs)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    ap.add_argument("--interest", default="sdim", choices=("sdim", "attention", "none"))
    ap.add_argument("--batch-size", type=int, default=TrainConfig.batch_size)
    ap.add_argument("--lr", type=float, default=TrainConfig.lr)
    ap.add_argument("--weight-decay", type=float, default=TrainConfig.weight_decay)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    from .export import export_all  # onnx imports are slow; only the CLI needs them here

    t0 = time.time()
    prep = prepare(a.data, attention_temperature=ATTENTION_TEMPERATURE if a.interest == "attention" else None)
    cfg = TrainConfig(epochs=a.epochs, batch_size=a.batch_size, lr=a.lr, weight_decay=a.weight_decay, interest=a.interest)
    tr = fit(a.model, prep, a.seed, cfg, log=lambda s: print(s, file=sys.stderr))
    metrics = evaluate(tr, prep)
    out = pathlib.Path(a.out)
    parity = export_all(tr, prep, out, metrics)
    print(json.dumps({"out": str(out), "test": metrics["test"]["overall"], "parityMaxAbsDiff": parity["maxAbsDiff"],
                      "seconds": round(time.time() - t0, 1)}))
    if not parity["ok"]:
        print(f"ONNX parity failed: max |diff| {parity['maxAbsDiff']} > {parity['tolerance']}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
