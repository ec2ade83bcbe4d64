"""The input schema every data source is loaded into (MovieLens-100K, the synthetic generator).

One row per exposure (the user saw and rated the item):

| column    | type            | meaning |
|-----------|-----------------|---------|
| user      | str             | user id as it appears in requests (`fnv1a32` hashes its UTF-8 bytes) |
| item      | str             | item id as it appears in the catalog |
| domain    | int             | index into `Dataset.domains` (the scenario the exposure belongs to) |
| label     | int (0/1)       | 1 = click (positive behaviour) |
| timestamp | int             | seconds since the epoch; features only see behaviours strictly before it |

Side tables: `users[user_id] = User(age, gender, occupation, zip)` and
`items[item_id] = Item(title, genres, year)`. User attributes are part of the schema (and of the
loader's output) but do not enter the models: the serving side has no user attributes at request
time (CONTRACT.md section 1 fixes the model inputs). Item attributes (genres, year) do.

Rows are kept sorted by (timestamp, user, item): every consumer can rely on time order.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import numpy as np


@dataclass(frozen=True)
class User:
    user_id: str
    age: Optional[int] = None
    gender: Optional[str] = None
    occupation: Optional[str] = None
    zip: Optional[str] = None


@dataclass(frozen=True)
class Item:
    item_id: str
    title: str = ""
    genres: Tuple[str, ...] = ()
    year: Optional[int] = None


@dataclass
class Interactions:
    user: np.ndarray  # object (str) [n]
    item: np.ndarray  # object (str) [n]
    domain: np.ndarray  # int64 [n]
    label: np.ndarray  # int8 [n]
    timestamp: np.ndarray  # int64 [n]

    def __len__(self) -> int:
        return len(self.label)

    def take(self, idx: np.ndarray) -> "Interactions":
        return Interactions(self.user[idx], self.item[idx], self.domain[idx], self.label[idx], self.timestamp[idx])

    @staticmethod
    def sorted(user, item, domain, label, timestamp) -> "Interactions":
        """Builds the table sorted by (timestamp, user, item), the order every consumer relies on."""
        user = np.asarray(user, dtype=object)
        item = np.asarray(item, dtype=object)
        order = sorted(range(len(user)), key=lambda i: (int(timestamp[i]), user[i], item[i]))
        o = np.asarray(order, dtype=np.int64)
        return Interactions(user[o], item[o], np.asarray(domain, dtype=np.int64)[o],
                            np.asarray(label, dtype=np.int8)[o], np.asarray(timestamp, dtype=np.int64)[o])


@dataclass
class Split:
    """Row indexes of a time split: train < t_valid <= valid < t_test <= test (by timestamp)."""
    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    t_valid: int
    t_test: int


@dataclass
class Dataset:
    name: str
    domains: List[str]
    genres: List[str]  # the item_dense genre order
    users: Dict[str, User]
    items: Dict[str, Item]
    rows: Interactions
    meta: Dict[str, object] = field(default_factory=dict)

    def time_split(self, valid_frac: float = 0.1, test_frac: float = 0.1) -> Split:
        """Global split by time: the cut timestamps are the (1 - valid - test) and (1 - test)
        quantiles of the row timestamps; rows sharing the cut second go to the later split, so no
        split holds a row that happened after a row of the next split."""
        ts = self.rows.timestamp
        n = len(ts)
        if n < 3:
            raise ValueError("need at least 3 rows to split")
        t_valid = int(ts[min(n - 1, int(n * (1.0 - valid_frac - test_frac)))])
        t_test = int(ts[min(n - 1, int(n * (1.0 - test_frac)))])
        idx = np.arange(n)
        return Split(idx[ts < t_valid], idx[(ts >= t_valid) & (ts < t_test)], idx[ts >= t_test], t_valid, t_test)
