"""Loader for MovieLens-100K (u.data, u.item, u.user, u.genre) into the input schema (schema.py).

Rules (documented in README.md; tests/test_movielens.py checks them on a small fixture):
- a rating >= 4 is a click (label 1), ratings 1..3 are exposures without a click (label 0);
- the domain of a row is the domain of its movie, from its genres (first rule that matches):
    family: Animation, Children's, Musical, Fantasy
    thrill: Action, Adventure, Thriller, Sci-Fi, Crime, War, Horror, Mystery, Western, Film-Noir
    drama:  everything else (Drama, Comedy, Romance, Documentary, unknown, no genre)
  so a family animation with some action is "family" and an action comedy is "thrill";
- ids are the MovieLens numeric ids as strings ("196"), the same strings the synthetic generator
  writes, so catalog.jsonl and the feature spec use them unchanged;
- year: from the release date (dd-Mon-yyyy), else from a "(yyyy)" at the end of the title, else
  unknown (the feature spec's yearDefault then applies);
- u.item is Latin-1 (titles with accents), the other files ASCII.
The split (Dataset.time_split) is global by time: train 80%, valid 10%, test 10% of the rows.
"""
from __future__ import annotations

import pathlib
import re
from typing import Dict, Iterable, List, Optional, Sequence

import numpy as np

from .schema import Dataset, Interactions, Item, User

DOMAINS = ["family", "thrill", "drama"]
FAMILY = ("Animation", "Children's", "Musical", "Fantasy")
THRILL = ("Action", "Adventure", "Thriller", "Sci-Fi", "Crime", "War", "Horror", "Mystery", "Western", "Film-Noir")
CLICK_MIN_RATING = 4
_TITLE_YEAR = re.compile(r"\((\d{4})\)\s*$")


def domain_of(genres: Iterable[str]) -> str:
    g = set(genres)
    if g.intersection(FAMILY):
        return "family"
    if g.intersection(THRILL):
        return "thrill"
    return "drama"


def parse_year(release: str, title: str) -> Optional[int]:
    release = release.strip()
    if release:
        tail = release.rsplit("-", 1)[-1]
        if tail.isdigit() and len(tail) == 4:
            return int(tail)
    m = _TITLE_YEAR.search(title)
    return int(m.group(1)) if m else None


def read_genres(path: pathlib.Path) -> List[str]:
    """u.genre: `name|index` lines (trailing blank lines); returned in index order."""
    pairs = []
    for line in path.read_text(encoding="latin-1").splitlines():
        if not line.strip():
            continue
        name, idx = line.rsplit("|", 1)
        pairs.append((int(idx), name))
    pairs.sort()
    if [i for i, _ in pairs] != list(range(len(pairs))):
        raise ValueError(f"{path}: genre indexes are not 0..{len(pairs) - 1}")
    return [n for _, n in pairs]


def read_items(path: pathlib.Path, genres: Sequence[str]) -> Dict[str, Item]:
    """u.item: id|title|release date|video release|IMDb URL|19 genre flags (Latin-1)."""
    items: Dict[str, Item] = {}
    for n, line in enumerate(path.read_text(encoding="latin-1").splitlines(), 1):
        if not line.strip():
            continue
        f = line.split("|")
        if len(f) != 5 + len(genres):
            raise ValueError(f"{path}:{n}: expected {5 + len(genres)} fields, got {len(f)}")
        flags = f[5:]
        g = tuple(name for name, flag in zip(genres, flags) if flag.strip() == "1")
        items[f[0]] = Item(item_id=f[0], title=f[1], genres=g, year=parse_year(f[2], f[1]))
    return items


def read_users(path: pathlib.Path) -> Dict[str, User]:
    """u.user: id|age|gender|occupation|zip."""
    users: Dict[str, User] = {}
    for line in path.read_text(encoding="latin-1").splitlines():
        if not line.strip():
            continue
        uid, age, gender, occ, zipc = line.split("|")
        users[uid] = User(uid, int(age), gender, occ, zipc)
    return users


def load(data_dir: str | pathlib.Path, name: str = "ml-100k") -> Dataset:
    d = pathlib.Path(data_dir)
    genres = read_genres(d / "u.genre")
    items = read_items(d / "u.item", genres)
    users = read_users(d / "u.user")
    raw = np.loadtxt(d / "u.data", dtype=np.int64, ndmin=2)
    if raw.shape[1] != 4:
        raise ValueError(f"{d / 'u.data'}: expected 4 tab-separated columns")
    user = np.array([str(u) for u in raw[:, 0]], dtype=object)
    item = np.array([str(i) for i in raw[:, 1]], dtype=object)
    missing = sorted(set(item) - set(items))
    if missing:
        raise ValueError(f"u.data references items missing from u.item: {missing[:5]}")
    dom_index = {name: i for i, name in enumerate(DOMAINS)}
    item_dom = {iid: dom_index[domain_of(it.genres)] for iid, it in items.items()}
    domain = np.array([item_dom[i] for i in item], dtype=np.int64)
    label = (raw[:, 2] >= CLICK_MIN_RATING).astype(np.int8)
    rows = Interactions.sorted(user, item, domain, label, raw[:, 3])
    return Dataset(name=name, domains=list(DOMAINS), genres=genres, users=users, items=items, rows=rows,
                   meta={"source": str(d), "clickRule": f"rating >= {CLICK_MIN_RATING}",
                         "domainRule": {"family": list(FAMILY), "thrill": list(THRILL), "drama": "otherwise"}})
