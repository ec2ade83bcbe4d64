"""Data preparation shared by train.py and evaluate.py: load, split by time, features."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional

import numpy as np

from . import features as F
from . import movielens
from .schema import Dataset, Split
from .sdim_fast import FastSdim


@dataclass
class Prepared:
    ds: Dataset
    split: Split
    spec: dict  # the feature spec without the model block filled in (see with_model)
    items: F.ItemTable
    emb: Dict[str, np.ndarray]
    feats: F.RowFeatures
    sdim: FastSdim

    def with_model(self, kind: str, routing_dim: int, training: dict) -> dict:
        spec = dict(self.spec)
        spec["model"] = {"name": "ctr", "kind": kind, "routingDim": routing_dim}
        spec["training"] = dict(training)
        return spec


def prepare(data_dir: str, attention_temperature: Optional[float] = None, sdim: Optional[dict] = None,
            valid_frac: float = 0.1, test_frac: float = 0.1) -> Prepared:
    """attention_temperature: also compute the target-attention reference (None: skip, it is slow)."""
    ds = movielens.load(data_dir)
    split = ds.time_split(valid_frac, test_frac)
    spec = F.build_spec(ds, "unset", 1, sdim=sdim)
    fs = FastSdim.from_spec(spec["sdim"])
    emb = F.item_embeddings(ds, ds.rows.take(split.train), spec["embedding"]["dim"])
    items = F.ItemTable.build(spec, ds.items, emb, fs)
    feats = F.row_features(spec, items, ds.rows, fs, attention_temperature=attention_temperature)
    spec["training"] = {"data": str(data_dir), "rows": {"train": int(len(split.train)), "valid": int(len(split.valid)),
                                                         "test": int(len(split.test))},
                        "split": {"tValid": split.t_valid, "tTest": split.t_test}}
    return Prepared(ds, split, spec, items, emb, feats, fs)
