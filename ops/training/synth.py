"""Seeded synthetic data set in MovieLens-100K format (u.data, u.item, u.user, u.genre).

  python -m ops.training.synth --out DIR [--users 200 --items 300 --ratings 20000 --seed 0]

Structure the models can learn (so short test runs see real signal):
- items have 1-3 of the 19 MovieLens genres and a latent factor v_i = mean of their genres' factors
  + noise, so genres and co-clicks are informative; years 1940-1998 (2% unknown);
- users have a latent factor u and a bias; items a popularity that drives both exposure and rating;
- each domain (by the loader's genre rule) has its own bias and its own mixing matrix A_dom, so the
  affinity u . (A_dom v) differs per domain: domain-aware models have something to gain;
- a user's ratings are spread over a few weeks from a personal start time, so the time split keeps
  some users in every part and earlier clicks predict later ones.
Ratings are 1..5 from the affinity plus logistic noise; about half are >= 4 (clicks).
"""
from __future__ import annotations

import argparse
import pathlib

import numpy as np

from .movielens import DOMAINS, domain_of

GENRES = ["unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
          "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western"]
OCCUPATIONS = ["student", "engineer", "educator", "writer", "artist", "other", "programmer", "librarian"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
K = 8  # latent dimension
T0 = 874724710  # the first MovieLens-100K timestamp (Sept 1997)


def generate(out: str | pathlib.Path, users: int = 200, items: int = 300, ratings: int = 20000, seed: int = 0) -> pathlib.Path:
    if users < 1 or items < 1 or ratings < 1:
        raise ValueError("users, items and ratings must be positive")
    ratings = min(ratings, users * items)
    rng = np.random.default_rng(seed)
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)

    # Items: genres (weights keep the three domains populated), factors, popularity, year.
    gw = np.array([0.2, 3, 1.5, 1, 1, 3, 1.2, 0.4, 4, 0.6, 0.3, 1, 0.6, 0.8, 2, 1.2, 2, 0.8, 0.4])
    gfac = rng.normal(size=(len(GENRES), K))
    item_genres, item_fac = [], np.zeros((items, K))
    for i in range(items):
        g = rng.choice(len(GENRES), size=int(rng.integers(1, 4)), replace=False, p=gw / gw.sum())
        item_genres.append(sorted(int(x) for x in g))
        item_fac[i] = gfac[g].mean(axis=0) + 0.6 * rng.normal(size=K)
    pop = rng.zipf(1.6, size=items).astype(float)
    pop = np.minimum(pop, 50.0) + rng.random(items)
    item_bias = 0.3 * np.log(pop) + 0.3 * rng.normal(size=items)
    years = rng.integers(1940, 1999, size=items)
    year_known = rng.random(items) >= 0.02
    item_dom = np.array([DOMAINS.index(domain_of(GENRES[g] for g in gs)) for gs in item_genres])

    # Domains: their own bias and mixing of the latent factors.
    dom_bias = np.array([-0.2, 0.15, 0.0])
    dom_mix = [np.eye(K) + 0.7 * rng.normal(size=(K, K)) / np.sqrt(K) for _ in DOMAINS]

    # Users: factors, bias, how many ratings, when they start.
    ufac = rng.normal(size=(users, K))
    ubias = 0.4 * rng.normal(size=users)
    share = rng.gamma(1.0, size=users)
    counts = np.maximum(1, np.floor(share / share.sum() * ratings)).astype(int)
    counts = np.minimum(counts, items)
    while counts.sum() < ratings:  # hand out what rounding and the caps left over
        i = int(rng.integers(users))
        if counts[i] < items:
            counts[i] += 1
    while counts.sum() > ratings:
        i = int(rng.integers(users))
        if counts[i] > 1:
            counts[i] -= 1
    start = T0 + rng.integers(0, 200 * 86400, size=users)

    lines = []
    for u in range(users):
        chosen = rng.choice(items, size=counts[u], replace=False, p=pop / pop.sum())
        ts = np.sort(start[u] + rng.integers(0, 30 * 86400, size=counts[u]))
        for i, t in zip(chosen, ts):
            d = item_dom[i]
            aff = ufac[u] @ dom_mix[d] @ item_fac[i] / np.sqrt(K)
            score = 1.6 * aff + ubias[u] + item_bias[i] + dom_bias[d] + rng.logistic(scale=0.6)
            rating = int(np.clip(np.digitize(score, [-1.2, -0.5, 0.1, 0.9]) + 1, 1, 5))
            lines.append(f"{u + 1}\t{i + 1}\t{rating}\t{int(t)}")
    (out / "u.data").write_text("\n".join(lines) + "\n")

    rows = []
    for i in range(items):
        y = int(years[i])
        release = f"01-{MONTHS[i % 12]}-{y}" if year_known[i] else ""
        title = f"Synthetic Movie {i + 1} ({y})" if year_known[i] else f"Synthetic Movie {i + 1}"
        flags = ["1" if g in item_genres[i] else "0" for g in range(len(GENRES))]
        rows.append("|".join([str(i + 1), title, release, "", f"http://example.invalid/movie/{i + 1}"] + flags))
    (out / "u.item").write_text("\n".join(rows) + "\n", encoding="latin-1")

    urows = []
    for u in range(users):
        urows.append(f"{u + 1}|{int(rng.integers(15, 70))}|{'MF'[int(rng.integers(2))]}|"
                     f"{OCCUPATIONS[int(rng.integers(len(OCCUPATIONS)))]}|{int(rng.integers(10000, 99999))}")
    (out / "u.user").write_text("\n".join(urows) + "\n")
    (out / "u.genre").write_text("".join(f"{g}|{k}\n" for k, g in enumerate(GENRES)) + "\n")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ops.training.synth", description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--users", type=int, default=200)
    ap.add_argument("--items", type=int, default=300)
    ap.add_argument("--ratings", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    p = generate(a.out, a.users, a.items, a.ratings, a.seed)
    print(f"wrote {p}/u.data, u.item, u.user, u.genre ({a.users} users, {a.items} items, seed {a.seed})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
