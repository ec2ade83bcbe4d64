import { RANKING_RANK, RETRIEVAL_CANDIDATES, type LocalCandidates, type LocalRank } from '@recsys/contracts';
import { LocalDirectory } from '@recsys/platform';
import { createTestApp, type TestApp } from '@recsys/testing/nest-app';
import { rankingApp } from '../../apps/ranking/src/ranking.app';
import { retrievalApp } from '../../apps/retrieval/src/retrieval.app';

/** The in-process calls retrieval and ranking offer other apps of the same process validate like their routes. */
describe('in-process calls (LocalDirectory)', () => {
  const local = new LocalDirectory();
  let retrieval: TestApp;
  let ranking: TestApp;
  beforeAll(async () => {
    retrieval = await createTestApp(retrievalApp, { local });
    ranking = await createTestApp(rankingApp, { local, infra: retrieval.infra });
  });
  afterAll(async () => {
    await ranking?.close();
    await retrieval?.close();
  });

  it("answers what the route answers, and the route's problem code for a bad body", async () => {
    const candidates = local.lookup<LocalCandidates>(RETRIEVAL_CANDIDATES)!;
    await expect(candidates({ namespace: 'items', k: 0 })).rejects.toMatchObject({ code: 'validation_failed', status: 422 });
    await expect(candidates({ namespace: 'nowhere', k: 3, vector: [0.1, 0.2] })).rejects.toMatchObject({ code: 'namespace_not_found', status: 404 });
    const http = await retrieval
      .http()
      .post('/v1/candidates')
      .send({ namespace: 'nowhere', k: 3, vector: [0.1, 0.2] });
    expect(http.status).toBe(404);
    const rank = local.lookup<LocalRank>(RANKING_RANK)!;
    await expect(rank({ userId: 'u', domain: 'feed', candidates: ['a'], extra: 1 })).rejects.toMatchObject({ code: 'validation_failed' });
  });

  it('withdraws its calls when the app shuts down', async () => {
    const other = new LocalDirectory();
    const app = await createTestApp(rankingApp, { local: other });
    expect(other.has(RANKING_RANK)).toBe(true);
    await app.close();
    expect(other.has(RANKING_RANK)).toBe(false);
  });
});
