import { SLATES_SLATE, type LocalSlate } from '@recsys/contracts';
import { LocalDirectory } from '@recsys/platform';
import { createTestApp, type TestApp } from '@recsys/testing/nest-app';
import { slatesApp } from '../../apps/slates/src/slates.app';

/** slates offers POST /v1/slates in process (capability slates.slate) with the route's validation and answer. */
describe('slates in process (LocalDirectory slates.slate)', () => {
  const local = new LocalDirectory();
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp(slatesApp, { local });
  });
  afterAll(async () => {
    await app?.close();
  });

  const body = {
    userId: 'u1',
    size: 3,
    seed: 7,
    candidates: Array.from({ length: 12 }, (_, k) => ({ itemId: `i${k}`, score: 0.02 + 0.01 * k, group: `g${k % 3}` })),
  };

  it('answers what the route answers for the same seeded body', async () => {
    const slate = local.lookup<LocalSlate>(SLATES_SLATE)!;
    expect(slate).toBeDefined();
    const inProcess = await slate(body);
    const http = await app.http().post('/v1/slates').send(body);
    expect(http.status).toBe(200);
    expect(inProcess.slate).toHaveLength(3);
    const strip = (r: { requestId: string }) => ({ ...r, requestId: '' });
    expect(strip(inProcess)).toEqual(strip(http.body));
    expect(inProcess.policyId).toBe('in-slate-ts/logistic');
  });

  it("rejects a bad body with the route's problem codes", async () => {
    const slate = local.lookup<LocalSlate>(SLATES_SLATE)!;
    await expect(slate({ ...body, size: 0 })).rejects.toMatchObject({ code: 'validation_failed', status: 422 });
    await expect(slate({ ...body, extra: 1 })).rejects.toMatchObject({ code: 'validation_failed', status: 422 });
    await expect(slate({ ...body, candidates: [body.candidates[0], body.candidates[0]] })).rejects.toMatchObject({ code: 'duplicate_candidates', status: 422 });
  });

  it('withdraws the capability when the app shuts down', async () => {
    const other = new LocalDirectory();
    const a = await createTestApp(slatesApp, { local: other });
    expect(other.has(SLATES_SLATE)).toBe(true);
    await a.close();
    expect(other.has(SLATES_SLATE)).toBe(false);
  });
});
