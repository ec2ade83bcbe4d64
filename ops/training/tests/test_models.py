"""Model mechanics that the metrics alone would not catch."""
import pytest
import torch

from ops.training import models as M

torch.set_num_threads(1)
CFG = M.ModelConfig(user_buckets=64, item_buckets=128, n_domains=3, dense_dim=5, emb_dim=8)


def batch(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randint(0, 64, (n,), generator=g), torch.randint(0, 128, (n,), generator=g),
            torch.randint(0, 3, (n,), generator=g), torch.rand(n, 5, generator=g),
            torch.randn(n, 8, generator=g), torch.randn(n, 8, generator=g))


def test_adaptdhm_routing_updates_centres_only_in_training():
    torch.manual_seed(0)
    m = M.build("adaptdhm", CFG)
    x = batch()
    m.eval()
    before = m.centres.clone()
    m(*x)
    assert torch.equal(m.centres, before), "evaluation must not move the centres"
    m.train()
    m(*x)
    assert not torch.equal(m.centres, before)
    assert torch.allclose(m.centres.norm(dim=1), torch.ones(CFG.clusters), atol=1e-6)
    assert bool(m.initialised) and m.usage.sum() == len(x[0])


def test_adaptdhm_hard_routing_uses_the_tower_of_the_largest_coefficient():
    torch.manual_seed(1)
    m = M.build("adaptdhm", CFG)
    m.train()
    for s in range(3):
        m(*batch(seed=s))
    m.eval()
    x = batch(seed=9)
    logit, r = m(*x)
    assert torch.allclose(r.sum(dim=1), torch.ones(len(logit)), atol=1e-6)
    h = m.bottom(m.inputs(*x))
    towers = m.towers(h)
    want = towers.gather(1, r.argmax(dim=1, keepdim=True)).squeeze(1)
    assert torch.allclose(logit, want)
    assert len(set(r.argmax(dim=1).tolist())) > 1, "routing should not send every sample to one cluster"


@pytest.mark.parametrize("kind", ["domain_towers", "mmoe"])
def test_domain_models_route_by_the_domain_input(kind):
    torch.manual_seed(2)
    m = M.build(kind, CFG).eval()
    x = list(batch())
    logit, route = m(*x)
    assert torch.equal(route.argmax(dim=1), x[2]) and torch.equal(route.sum(dim=1), torch.ones(len(logit)))
    x[2] = (x[2] + 1) % 3
    other, _ = m(*x)
    assert not torch.allclose(logit, other), "another domain must use another tower"


def test_shared_bottom_ignores_nothing_but_has_one_route():
    m = M.build("shared_bottom", CFG).eval()
    logit, route = m(*batch())
    assert route.shape == (len(logit), 1) and torch.all(route == 1)


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown model kind"):
        M.build("star", CFG)


def test_adaptdhm_cluster_towers_start_as_one_shared_tower_and_decay_towards_it():
    torch.manual_seed(3)
    m = M.build("adaptdhm", CFG)
    h = torch.randn(16, CFG.bottom[-1])
    logits = m.towers(h)  # [B, K]: every cluster has zero deviation at initialisation
    assert torch.allclose(logits, logits[:, :1].expand_as(logits))
    from ops.training.train import TrainConfig, param_groups
    groups = param_groups(m, TrainConfig(weight_decay=1e-4, cluster_decay=1e-2))
    dev = {id(p) for p in list(m.towers.wk) + list(m.towers.bk)}
    assert [g["weight_decay"] for g in groups] == [1e-4, 1e-2]
    assert {id(p) for p in groups[1]["params"]} == dev and not dev & {id(p) for p in groups[0]["params"]}
    with torch.no_grad():
        m.towers.wk[0][1].fill_(0.5)  # a deviation of cluster 1 only
    after = m.towers(h)
    assert torch.equal(after[:, 0], logits[:, 0]) and not torch.allclose(after[:, 1], logits[:, 1])


def test_unit_interest_input_separates_direction_and_length():
    c = M.ModelConfig(user_buckets=64, item_buckets=128, n_domains=3, dense_dim=5, emb_dim=8, interest_input="unit")
    inputs = M.build("shared_bottom", c).inputs
    x = list(batch(n=8))
    x[5][0] = 0.0  # a user without history
    a = inputs(*x)
    x[5] = x[5] * 3.0
    b = inputs(*x)
    assert a.shape[1] == inputs.dim
    assert torch.allclose(a[:, :-1], b[:, :-1], atol=1e-6), "only the length column may change with the scale"
    assert torch.allclose(b[1:, -1], 3.0 * a[1:, -1]) and a[0, -1] == 0 and torch.all(a[0, -2 * 8 - 2:-8 - 2] == 0)  # the zero interest stays zero
