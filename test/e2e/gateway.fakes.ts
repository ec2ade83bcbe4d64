import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FeedStage } from '@recsys/contracts';

/**
 * Stand-ins for every stage the gateway calls, on one HTTP server, following the stage apps'
 * contracts. Each stage can be switched to `down` (500), `slow` (answers after `slowMs`),
 * `missing` (404 route_not_found, as an app shell without the route), `garbage` (200, wrong shape).
 * They misbehave on purpose: retrieval ignores exclusions and groups, slates answers an item it was
 * not given, ads serves a paused campaign: the gateway must filter all of it.
 */
export type StageMode = 'ok' | 'down' | 'slow' | 'missing' | 'garbage';

export interface FakeItem {
  itemId: string;
  group: string;
}

export class FakeStages {
  readonly modes: Record<FeedStage, StageMode> = { experiments: 'ok', history: 'ok', retrieval: 'ok', ranking: 'ok', slates: 'ok', adload: 'ok', ads: 'ok' };
  readonly calls: Record<FeedStage, number> = { experiments: 0, history: 0, retrieval: 0, ranking: 0, slates: 0, adload: 0, ads: 0 };
  slowMs = 1000;
  /** Items retrieval returns (beyond what it was asked to exclude). */
  items: FakeItem[] = [];
  /** Extra ids retrieval returns whatever the filters say. */
  rogueIds: string[] = [];
  /** History per user (item ids, newest first). */
  history = new Map<string, string[]>();
  /** Users without an embedding (retrieval answers 404 user_embedding_not_found). */
  coldUsers = new Set<string>();
  /** The ads the fill returns, in slot order. */
  ads = [
    { adId: 'ad-1', campaignId: 'camp-live', price: 1.2, ecpm: 2.5, token: 'ads-token-ad-1' },
    { adId: 'ad-2', campaignId: 'camp-paused', price: 0.9, ecpm: 2.0, token: 'ads-token-ad-2' },
  ];
  adPositions = [2, 5];
  lastRequests: Partial<Record<FeedStage, any>> = {};
  private server?: Server;
  private readonly timers = new Set<NodeJS.Timeout>();

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop() {
    for (const t of this.timers) clearTimeout(t);
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r());
  }

  reset() {
    for (const k of Object.keys(this.modes) as FeedStage[]) {
      this.modes[k] = 'ok';
      this.calls[k] = 0;
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
    const url = new URL(req.url!, 'http://x');
    const route: [FeedStage, () => unknown] | undefined =
      req.method === 'POST' && url.pathname === '/v1/assignments'
        ? ['experiments', () => ({ assignments: [{ experiment: 'slate-policy-test', variant: 'treatment', overrides: { 'slates.policy': 'in_slate_ts' } }] })]
        : req.method === 'GET' && /^\/v1\/users\/[^/]+\/history$/.test(url.pathname)
          ? ['history', () => ({ userId: 'x', total: 0, items: (this.history.get(decodeURIComponent(url.pathname.split('/')[3]!)) ?? []).map((itemId) => ({ itemId, type: 'click' })) })]
          : req.method === 'POST' && url.pathname === '/v1/candidates'
            ? ['retrieval', () => this.candidates(body)]
            : req.method === 'POST' && url.pathname === '/v1/rank'
              ? ['ranking', () => this.rank(body)]
              : req.method === 'POST' && url.pathname === '/v1/slates'
                ? ['slates', () => this.slate(body)]
                : req.method === 'POST' && url.pathname === '/v1/adload/decide'
                  ? [
                      'adload',
                      () => ({
                        decisionId: `dec-${Math.random().toString(36).slice(2)}`,
                        policyId: 'adload-policy-3',
                        adSlots: this.adPositions.length,
                        positions: this.adPositions,
                        propensity: 0.25,
                      }),
                    ]
                  : req.method === 'POST' && url.pathname === '/v1/ads/fill'
                    ? ['ads', () => ({ requestId: 'fill-1', ads: (body.positions as number[]).map((p, i) => ({ ...this.ads[i % this.ads.length], position: p, slot: i })), degraded: [] })]
                    : undefined;
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': status >= 400 ? 'application/problem+json' : 'application/json', ...headers });
      res.end(JSON.stringify(payload));
    };
    if (!route) return send(404, { code: 'route_not_found', status: 404 });
    const [stage, answer] = route;
    this.calls[stage]++;
    this.lastRequests[stage] = body ?? url.pathname;
    const mode = this.modes[stage];
    if (mode === 'down') return send(500, { code: 'internal_error', status: 500 });
    if (mode === 'missing') return send(404, { code: 'route_not_found', status: 404 });
    if (mode === 'garbage') return send(200, { what: 'is this' });
    if (stage === 'retrieval' && this.coldUsers.has(body.userId)) return send(404, { code: 'user_embedding_not_found', status: 404 });
    const out = answer();
    const headers = stage === 'ranking' ? { 'x-model-name': 'ctr', 'x-model-version': 'v7' } : undefined;
    if (mode === 'slow') {
      const t = setTimeout(() => {
        this.timers.delete(t);
        send(200, out, headers);
      }, this.slowMs);
      this.timers.add(t);
      return;
    }
    send(200, out, headers);
  }

  private candidates(body: { userId: string; k: number }) {
    const list = [...this.rogueIds.map((itemId) => ({ itemId })), ...this.items];
    return list.slice(0, body.k).map((it, i) => ({ itemId: it.itemId, score: 1 - i / 1000 }));
  }

  /** pCTR = a deterministic function of the id, so ranking reorders retrieval's list. */
  private rank(body: { candidates: string[] }) {
    const score = (id: string) => ([...id].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 1009, 7) / 1009) * 0.2;
    return body.candidates.map((itemId) => ({ itemId, pctr: score(itemId) })).sort((a, b) => b.pctr - a.pctr);
  }

  /** Reverse of the ranked order, plus an item it was never given. */
  private slate(body: { size: number; candidates: { itemId: string; score: number }[]; policy?: string }) {
    const picked = [{ itemId: 'never-given' }, ...[...body.candidates].reverse()].slice(0, body.size);
    return { requestId: 'slate-req', policyId: body.policy ?? 'greedy', slate: picked.map((c, i) => ({ itemId: c.itemId, position: i, propensity: 0.5, sampledScore: 0.1 })) };
  }
}
