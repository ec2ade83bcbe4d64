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
