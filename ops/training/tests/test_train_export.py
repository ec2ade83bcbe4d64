"""Short seeded training runs of every model on a small synthetic set, ONNX export and parity
(ONNX Runtime equals PyTorch within 1e-5 on held-out rows), the artefacts of CONTRACT.md, and the
time cut of the training features."""
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import torch

from ops.training import models as M
from ops.training.data import prepare
from ops.training.export import TOLERANCE, export_all, onnx_session
from ops.training.features import FEATURES
from ops.training.sdim_ref import BucketTables
from ops.training.train import TrainConfig, evaluate, fit

ROOT = pathlib.Path(__file__).resolve().parents[3]
torch.set_num_threads(1)


@pytest.fixture(scope="module")
def prep(tiny_synth):
    return prepare(str(tiny_synth))


@pytest.mark.parametrize("kind", M.KINDS)
def test_short_run_exports_with_onnx_parity(kind, prep, tmp_path):
    tr = fit(kind, prep, seed=0, cfg=TrainConfig(epochs=1, batch_size=256), log=lambda s: None)
    metrics = evaluate(tr, prep)
    assert 0.0 <= metrics["test"]["overall"]["auc"] <= 1.0
    parity = export_all(tr, prep, tmp_path, metrics)
    assert parity["ok"] and parity["maxAbsDiff"] <= TOLERANCE, parity
    assert parity["rowsChecked"] == min(len(prep.split.test), 2048)
    for f in ("model.onnx", "feature-spec.json", "metrics.json", "catalog.jsonl", "parity.json"):
        assert (tmp_path / f).stat().st_size > 0, f

    spec = json.loads((tmp_path / "feature-spec.json").read_text())
    k = M.routing_dim(tr.model)
    assert spec["model"] == {"name": "ctr", "kind": kind, "routingDim": k}
    assert spec["sdim"] == {"seed": 20240501, "m": 48, "tau": 3, "d": 32, "normalize": "pooled"}
    assert [i["name"] for i in spec["inputs"]] == list(FEATURES)

    sess = onnx_session(tmp_path / "model.onnx")
    assert [i.name for i in sess.get_inputs()] == list(FEATURES)
    assert [o.name for o in sess.get_outputs()] == ["pctr", "routing"]
    for i, want in zip(sess.get_inputs(), spec["inputs"]):
        assert i.type == ("tensor(int64)" if want["dtype"] == "int64" else "tensor(float)")
        assert len(i.shape) == len(want["shape"]) and not isinstance(i.shape[0], int)  # dynamic batch
    rows = json.loads((tmp_path / "parity.json").read_text())["rows"]
    feeds = {n: np.array([r["features"][n] for r in rows], dtype=np.int64 if n in FEATURES[:3] else np.float32)
             for n in FEATURES}
    pctr, routing = sess.run(["pctr", "routing"], feeds)
    assert routing.shape == (len(rows), k)
    assert np.max(np.abs(pctr - np.array([r["torch"]["pctr"] for r in rows]))) <= TOLERANCE
    assert np.all((pctr > 0) & (pctr < 1))
    if kind == "adaptdhm":
        assert np.allclose(routing.sum(axis=1), 1.0, atol=1e-5)  # distribution coefficients

    events = [json.loads(line) for line in (tmp_path / "catalog.jsonl").read_text().splitlines()]
    assert len(events) == len(prep.ds.items)
    e = events[0]
    assert e["op"] == "upsert" and e["namespace"] == "items" and e["key"] == e["itemId"]
    assert len(e["embedding"]) == 32 and isinstance(e["attributes"]["genres"], list)


def test_same_seed_same_model(prep):
    a = fit("adaptdhm", prep, seed=5, cfg=TrainConfig(epochs=1, batch_size=256), log=lambda s: None)
    b = fit("adaptdhm", prep, seed=5, cfg=TrainConfig(epochs=1, batch_size=256), log=lambda s: None)
    for (ka, va), (kb, vb) in zip(a.model.state_dict().items(), b.model.state_dict().items()):
        assert ka == kb and torch.equal(va, vb), ka


def test_training_interest_uses_only_clicks_strictly_before_the_row(prep):
    rows, f = prep.ds.rows, prep.feats
    emb = {iid: prep.items.emb[k] for iid, k in prep.items.index.items()}
    rng = np.random.default_rng(0)
    for r in rng.choice(len(rows), size=40, replace=False):
        u, t = rows.user[r], rows.timestamp[r]
        before = (rows.user == u) & (rows.timestamp < t) & (rows.label == 1)
        hist = [emb[i] for i in rows.item[before]]
        if not hist:
            assert not f.sdim_interest[r].any()
            continue
        tables = BucketTables(prep.sdim.ref)
        for h in hist:
            tables.add([float(v) for v in h])
        want = np.array(tables.interest([float(v) for v in emb[rows.item[r]]]), dtype=np.float32)
        assert np.array_equal(f.sdim_interest[r], want), r


def test_cli_writes_every_artefact(tiny_synth, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = tmp_path / "out"
    p = subprocess.run([sys.executable, "-m", "ops.training.train", "--data", str(tiny_synth), "--model", "adaptdhm",
                        "--epochs", "1", "--seed", "0", "--out", str(out)], cwd=ROOT, env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    summary = json.loads(p.stdout.strip().splitlines()[-1])
    assert summary["parityMaxAbsDiff"] <= TOLERANCE
    assert sorted(x.name for x in out.iterdir()) == ["catalog.jsonl", "feature-spec.json", "metrics.json", "model.onnx", "parity.json"]
