"""The four multi-domain CTR models. Every model takes the six inputs of CONTRACT.md section 1 and
returns (logit [B], routing [B, K]); export.py wraps them to output (pctr, routing).

- shared_bottom: one MLP bottom, one tower for every domain (routing: ones [B, 1]).
- domain_towers: shared bottom, a hard tower per domain selected by the domain input
  (routing: the one-hot of the domain).
- mmoe: E experts shared by all domains, one softmax gate and one tower per domain (MMoE with
  the domains as tasks; routing: the one-hot of the domain tower).
- adaptdhm: shared bottom, a distribution adaptation module (DAM) and one tower per cluster
  (routing: the per-sample distribution coefficients over K clusters). See AdaptDHM below.

The "interest" input slot (named sdim_interest in the ONNX graph) carries the SDIM interest or,
for the comparison in evaluate.py, the target-attention reference; the models do not know which.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

KINDS = ("shared_bottom", "domain_towers", "mmoe", "adaptdhm")


@dataclass
class ModelConfig:
    user_buckets: int
    item_buckets: int
    n_domains: int
    dense_dim: int  # G + 1
    emb_dim: int  # d
    id_dim: int = 16
    domain_dim: int = 8
    bottom: List[int] = field(default_factory=lambda: [128, 64])
    tower: List[int] = field(default_factory=lambda: [32])
    experts: int = 4  # mmoe
    clusters: int = 4  # adaptdhm: K
    routing_iters: int = 3  # adaptdhm: routing iterations per training batch
    beta: float = 0.9  # adaptdhm: centre momentum
    routing_temperature: float = 0.1  # adaptdhm: softmax temperature of the coefficients
    routing_source: str = "input"  # adaptdhm: cluster the input representation or the bottom output
    assign: str = "hard"  # adaptdhm: hard (argmax tower) or soft (r-weighted sum of tower logits)
    hierarchy: str = "tower"  # adaptdhm: cluster-specific factors in the towers only, or in the full MLP
    interest_input: str = "raw"  # raw: the interest as given; unit: its direction plus its length

    @classmethod
    def from_spec(cls, spec: dict, **kw) -> "ModelConfig":
        return cls(user_buckets=spec["hash"]["userBuckets"], item_buckets=spec["hash"]["itemBuckets"],
                   n_domains=len(spec["domains"]), dense_dim=len(spec["itemDense"]["genres"]) + 1,
                   emb_dim=spec["embedding"]["dim"], **kw)


def mlp(dims: List[int]) -> nn.Sequential:
    layers: List[nn.Module] = []
    for a, b in zip(dims[:-1], dims[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers)


def one_hot(index: torch.Tensor, n: int) -> torch.Tensor:
    # A comparison rather than F.one_hot: exports to plain Equal/Cast ONNX ops.
    return (index.unsqueeze(1) == torch.arange(n, dtype=index.dtype, device=index.device).unsqueeze(0)).float()


class Inputs(nn.Module):
    """Embeds ids and concatenates every feature, plus item_emb * interest and its sum (the
    candidate-interest match the models would otherwise have to learn from the raw vectors)."""

    def __init__(self, c: ModelConfig):
        super().__init__()
        self.user = nn.Embedding(c.user_buckets, c.id_dim)
        self.item = nn.Embedding(c.item_buckets, c.id_dim)
        self.domain = nn.Embedding(c.n_domains, c.domain_dim)
        for e in (self.user, self.item, self.domain):
            nn.init.normal_(e.weight, std=0.05)
        if c.interest_input not in ("raw", "unit"):
            raise ValueError("interest_input is raw|unit")
        self.unit = c.interest_input == "unit"
        self.dim = 2 * c.id_dim + c.domain_dim + c.dense_dim + 3 * c.emb_dim + 1 + int(self.unit)

    def forward(self, user_bucket, item_bucket, domain, item_dense, item_emb, interest):
        extra = []
        if self.unit:
            norm = torch.sqrt((interest * interest).sum(dim=1, keepdim=True))
            interest = interest / torch.clamp(norm, min=1e-6)
            extra = [norm]
        match = item_emb * interest
        return torch.cat([self.user(user_bucket), self.item(item_bucket), self.domain(domain), item_dense,
                          item_emb, interest, match, match.sum(dim=1, keepdim=True)] + extra, dim=1)


class Tower(nn.Module):
    def __init__(self, d_in: int, hidden: List[int]):
        super().__init__()
        self.body = mlp([d_in] + hidden)
        self.out = nn.Linear(([d_in] + hidden)[-1], 1)

    def forward(self, h):
        return self.out(self.body(h)).squeeze(1)


class SharedBottom(nn.Module):
    def __init__(self, c: ModelConfig):
        super().__init__()
        self.inputs = Inputs(c)
        self.bottom = mlp([self.inputs.dim] + c.bottom)
        self.tower = Tower(c.bottom[-1], c.tower)
        self.routing_dim = 1

    def forward(self, user_bucket, item_bucket, domain, item_dense, item_emb, interest) -> Tuple[torch.Tensor, torch.Tensor]:
        h = self.bottom(self.inputs(user_bucket, item_bucket, domain, item_dense, item_emb, interest))
        logit = self.tower(h)
        return logit, torch.ones_like(logit).unsqueeze(1)


class DomainTowers(nn.Module):
    def __init__(self, c: ModelConfig):
        super().__init__()
        self.inputs = Inputs(c)
        self.bottom = mlp([self.inputs.dim] + c.bottom)
        self.towers = nn.ModuleList(Tower(c.bottom[-1], c.tower) for _ in range(c.n_domains))
        self.routing_dim = c.n_domains

    def forward(self, user_bucket, item_bucket, domain, item_dense, item_emb, interest):
        h = self.bottom(self.inputs(user_bucket, item_bucket, domain, item_dense, item_emb, interest))
        logits = torch.stack([t(h) for t in self.towers], dim=1)
        route = one_hot(domain, self.routing_dim)
        return (logits * route).sum(dim=1), route


class MMoE(nn.Module):
    def __init__(self, c: ModelConfig):
        super().__init__()
        self.inputs = Inputs(c)
        self.n_domains, self.n_experts = c.n_domains, c.experts
        self.experts = nn.ModuleList(mlp([self.inputs.dim] + c.bottom) for _ in range(c.experts))
        self.gates = nn.Linear(self.inputs.dim, c.n_domains * c.experts)  # one gate per domain
        self.towers = nn.ModuleList(Tower(c.bottom[-1], c.tower) for _ in range(c.n_domains))
        self.routing_dim = c.n_domains

    def forward(self, user_bucket, item_bucket, domain, item_dense, item_emb, interest):
        x = self.inputs(user_bucket, item_bucket, domain, item_dense, item_emb, interest)
        ex = torch.stack([e(x) for e in self.experts], dim=1)  # [B, E, H]
        route = one_hot(domain, self.n_domains)  # [B, D]
        gates = torch.softmax(self.gates(x).view(-1, self.n_domains, self.n_experts), dim=2)
        gate = (gates * route.unsqueeze(2)).sum(dim=1)  # the sample's domain gate [B, E]
        mixed = (ex * gate.unsqueeze(2)).sum(dim=1)
        logits = torch.stack([t(mixed) for t in self.towers], dim=1)
        return (logits * route).sum(dim=1), route


class ClusterTowers(nn.Module):
    """K towers whose layer weights are shared * (1 + cluster deviation) (element-wise) and biases
    shared + cluster deviation: the hierarchy of AdaptDHM (commonality in the shared weights, the
    cluster's distinction in its deviation). The deviations start at 0, so training starts from one
    shared tower, and weight decay pulls a cluster towards the shared tower rather than towards
    zero weights (with a plain cluster factor it would shrink the cluster's whole tower)."""

    def __init__(self, d_in: int, hidden: List[int], k: int):
        super().__init__()
        dims = [d_in] + hidden + [1]
        self.w = nn.ParameterList()
        self.wk = nn.ParameterList()
        self.b = nn.ParameterList()
        self.bk = nn.ParameterList()
        for a, b in zip(dims[:-1], dims[1:]):
            w = torch.empty(a, b)
            nn.init.kaiming_uniform_(w.T, a=5 ** 0.5)  # nn.Linear's default initialisation
            self.w.append(nn.Parameter(w))
            self.wk.append(nn.Parameter(torch.zeros(k, a, b)))  # the factor is 1 + wk
            bound = 1.0 / a ** 0.5
            self.b.append(nn.Parameter(torch.empty(b).uniform_(-bound, bound)))
            self.bk.append(nn.Parameter(torch.zeros(k, b)))

    def forward(self, h):  # [B, H] -> logits [B, K]
        x = h.unsqueeze(1)  # [B, 1, H], broadcast over the clusters
        n = len(self.w)
        for i in range(n):
            w = self.w[i].unsqueeze(0) * (1.0 + self.wk[i])  # [K, a, b]
            x = torch.einsum("bka,kac->bkc", x.expand(-1, w.shape[0], -1), w) + self.b[i] + self.bk[i]
            if i < n - 1:
                x = F.relu(x)
        return x.squeeze(2)


class AdaptDHM(nn.Module):
    """AdaptDHM (Li et al., 2022, arXiv:2211.12105): a shared bottom, a distribution adaptation
    module that clusters samples without domain priors, and one tower per cluster.

    DAM: K unit-length cluster centres C (a buffer, not trained by the loss). A sample's routing
    input z is its concatenated input representation x, detached, centred by a running mean and
    scaled to unit length (without the centring every sample shares one dominant direction and the
    centres collapse onto it). Distribution coefficients r = softmax(z C^T / temperature). In
    training, every batch runs `routing_iters` routing iterations before the forward pass: r from the
    current centres, then C <- normalize(beta C + (1 - beta) normalize(r^T Z)) (each centre moves to
    the r-weighted mean direction of the batch); the coefficients used are those after the last
    update. The centres start at K samples of the first batch. The sample goes to the cluster with
    the largest coefficient (hard routing, the paper's clustering process), whose tower gives the
    logit; `routing` outputs r. In evaluation the centres and the mean are fixed.
    """

    def __init__(self, c: ModelConfig):
        super().__init__()
        self.inputs = Inputs(c)
        if c.hierarchy == "tower":
            self.bottom = mlp([self.inputs.dim] + c.bottom)
            self.towers = ClusterTowers(c.bottom[-1], c.tower, c.clusters)
        elif c.hierarchy == "full" and c.routing_source == "input":
            # Every layer is shared * cluster-specific (STAR-like), no separate shared bottom.
            self.bottom = nn.Identity()
            self.towers = ClusterTowers(self.inputs.dim, c.bottom + c.tower, c.clusters)
        else:
            raise ValueError("hierarchy is tower|full (full routes on the input)")
        self.k, self.iters, self.beta, self.temp = c.clusters, c.routing_iters, c.beta, c.routing_temperature
        if c.routing_source not in ("input", "bottom") or c.assign not in ("hard", "soft"):
            raise ValueError("routing_source is input|bottom, assign is hard|soft")
        self.source, self.assign = c.routing_source, c.assign
        dim = self.inputs.dim if c.routing_source == "input" else c.bottom[-1]
        self.register_buffer("centres", F.normalize(torch.randn(c.clusters, dim), dim=1))
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("usage", torch.zeros(c.clusters))  # hard assignments seen in training
        self.register_buffer("initialised", torch.zeros((), dtype=torch.bool))

    def routing_input(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(x.detach() - self.mean, dim=1)

    def coefficients(self, z: torch.Tensor) -> torch.Tensor:
        return torch.softmax(z @ self.centres.T / self.temp, dim=1)

    @torch.no_grad()
    def route_update(self, x: torch.Tensor) -> None:
        if not bool(self.initialised):
            self.mean.copy_(x.mean(dim=0))
        else:
            self.mean.mul_(0.99).add_(0.01 * x.mean(dim=0))
        z = self.routing_input(x)
        if not bool(self.initialised) and len(z) >= self.k:
            self.centres.copy_(z[torch.randperm(len(z))[: self.k]])
            self.initialised.fill_(True)
        for _ in range(self.iters):
            r = self.coefficients(z)
            target = F.normalize(r.T @ z, dim=1)  # [K, D]
            self.centres.copy_(F.normalize(self.beta * self.centres + (1.0 - self.beta) * target, dim=1))

    def forward(self, user_bucket, item_bucket, domain, item_dense, item_emb, interest):
        x = self.inputs(user_bucket, item_bucket, domain, item_dense, item_emb, interest)
        h = self.bottom(x)
        src = x if self.source == "input" else h
        if self.training:
            self.route_update(src.detach())
        r = self.coefficients(self.routing_input(src))
        hard = one_hot(torch.argmax(r, dim=1), self.k)
        if self.training:
            self.usage += hard.sum(dim=0).detach()
        logits = self.towers(h)  # [B, K]
        return (logits * (hard if self.assign == "hard" else r)).sum(dim=1), r


def build(kind: str, c: ModelConfig) -> nn.Module:
    m = {"shared_bottom": SharedBottom, "domain_towers": DomainTowers, "mmoe": MMoE, "adaptdhm": AdaptDHM}.get(kind)
    if m is None:
        raise ValueError(f"unknown model kind {kind!r}; one of {', '.join(KINDS)}")
    model = m(c)
    model.kind = kind
    return model


def routing_dim(model: nn.Module) -> int:
    return model.k if isinstance(model, AdaptDHM) else model.routing_dim
