"""Loader rules on a small hand-written MovieLens-format fixture: clicks, domains, ids, years,
Latin-1, time order and the time split."""
import numpy as np
import pytest

from ops.training import movielens
from ops.training.synth import GENRES


def flags(*names):
    return "|".join("1" if g in names else "0" for g in GENRES)


@pytest.fixture()
def fixture_dir(tmp_path):
    (tmp_path / "u.genre").write_text("".join(f"{g}|{i}\n" for i, g in enumerate(GENRES)) + "\n")
    items = [
        f"1|Toy Tale (1995)|01-Jan-1995||url|{flags('Animation', 'Action')}",  # family wins over thrill
        f"2|Heat Wave (1996)|01-Jan-1996||url|{flags('Action', 'Comedy')}",  # thrill wins over drama
        f"3|Quiet Days (1990)|||url|{flags('Comedy', 'Romance')}",  # drama; year from the title
        f"4|Café Noir|||url|{flags()}",  # no genre: drama; no year; Latin-1 title
        f"5|Dark Woods (1981)|01-Jan-1981||url|{flags('Horror')}",
        f"6|Sing Along (1964)|01-Jan-1964||url|{flags('Musical', 'Drama')}",
    ]
    (tmp_path / "u.item").write_bytes(("\n".join(items) + "\n").encode("latin-1"))
    (tmp_path / "u.user").write_text("1|24|M|technician|85711\n2|53|F|other|94043\n3|23|M|writer|32067\n")
    data = [  # user item rating timestamp, deliberately out of time order
        (1, 1, 5, 100), (1, 2, 3, 200), (2, 3, 4, 150), (2, 4, 1, 300), (3, 5, 4, 300),
        (3, 6, 2, 400), (1, 3, 4, 500), (2, 5, 5, 600), (3, 1, 3, 700), (1, 6, 4, 800),
    ]
    (tmp_path / "u.data").write_text("".join(f"{u}\t{i}\t{r}\t{t}\n" for u, i, r, t in data))
    return tmp_path


def test_domains_by_genre_family_rule():
    assert movielens.domain_of(["Animation", "Action"]) == "family"
    assert movielens.domain_of(["Action", "Comedy"]) == "thrill"
    assert movielens.domain_of(["Film-Noir"]) == "thrill"
    assert movielens.domain_of(["Comedy", "Romance"]) == "drama"
    assert movielens.domain_of([]) == "drama"


def test_loader_applies_click_domain_and_attribute_rules(fixture_dir):
    ds = movielens.load(fixture_dir)
    r = ds.rows
    assert ds.domains == ["family", "thrill", "drama"]
    assert list(r.timestamp) == sorted(r.timestamp)
    by = {(u, i): k for k, (u, i) in enumerate(zip(r.user, r.item))}
    assert r.label[by[("1", "1")]] == 1 and r.label[by[("1", "2")]] == 0  # 5 -> click, 3 -> not
    assert r.label[by[("2", "3")]] == 1 and r.label[by[("3", "6")]] == 0  # 4 -> click, 2 -> not
    dom = {i: ds.domains[r.domain[k]] for (u, i), k in by.items()}
    assert dom == {"1": "family", "2": "thrill", "3": "drama", "4": "drama", "5": "thrill", "6": "family"}
    assert ds.items["3"].year == 1990 and ds.items["4"].year is None and ds.items["1"].year == 1995
    assert ds.items["4"].title == "Café Noir"
    assert ds.items["1"].genres == ("Action", "Animation")  # u.genre order
    assert ds.users["2"].age == 53 and ds.users["2"].gender == "F"


def test_time_split_is_by_timestamp_and_keeps_equal_seconds_together(fixture_dir):
    ds = movielens.load(fixture_dir)
    s = ds.time_split(valid_frac=0.3, test_frac=0.3)
    ts = ds.rows.timestamp
    assert len(s.train) + len(s.valid) + len(s.test) == len(ts)
    assert ts[s.train].max() < s.t_valid <= ts[s.valid].min()
    assert ts[s.valid].max() < s.t_test <= ts[s.test].min()
    # Rows 3 and 4 (0-based, time order) share t=300; the cut at row 4 sends both to valid.
    assert s.t_valid == 300 and ts[s.valid].tolist() == [300, 300, 400, 500]
    assert ts[s.test].tolist() == [600, 700, 800]


def test_loader_rejects_ratings_of_unknown_items(fixture_dir):
    with open(fixture_dir / "u.data", "a") as fh:
        fh.write("1\t99\t5\t900\n")
    with pytest.raises(ValueError, match="missing from u.item"):
        movielens.load(fixture_dir)
