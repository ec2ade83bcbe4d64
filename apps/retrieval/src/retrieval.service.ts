import { join } from 'node:path';
import { decodeFloat32, embeddingProblem, stateKeys } from '@recsys/contracts';
import { DomainError, type AppContext } from '@recsys/platform';
import { namespaceDims } from '@recsys/platform/namespaces';
import { readState } from '@recsys/platform/state-read';
import type { CandidatesRequest } from './api/dto';
import { CatalogIndex } from './domain/catalog-index';
import { DefaultIndexFactory, IndexKind } from './domain/index-factory';
import { scoreOf } from './domain/score';
import { startCatalogConsumer } from './catalog.consumer';
import { REBUILD_QUEUE, RebuildJobData, runRebuild } from './rebuild.job';

export interface Candidate {
  itemId: string;
  score: number;
}

/** The retrieval use cases: wiring of CatalogIndex to the bus, the job queue and snapshots. */
export class RetrievalService {
  readonly index: CatalogIndex;
  readonly factory: DefaultIndexFactory;
  private readonly snapshotDir: string;
  private timer?: NodeJS.Timeout;
  private lastSnapshotAt: number | null = null;

  constructor(private readonly ctx: AppContext) {
    const dataDir = join(ctx.config.DATA_DIR, 'retrieval');
    this.snapshotDir = join(dataDir, 'snapshots');
    this.factory = new DefaultIndexFactory(dataDir, { engine: ctx.config.RETRIEVAL_HNSW_ENGINE });
    this.index = new CatalogIndex(this.factory, { kind: ctx.config.RETRIEVAL_INDEX_KIND, metric: ctx.config.RETRIEVAL_METRIC, dims: namespaceDims(ctx.config) });
  }

  /** Restore the last snapshot, then catch up from its offsets; snapshot periodically and at shutdown. */
  async start(): Promise<void> {
    const restored = await this.index.restore(this.snapshotDir);
    // Working files of earlier processes and interrupted snapshots: only the live indexes and the
    // newest snapshot are kept.
    const garbage = [...(await this.factory.collectGarbage()), ...(restored ? await this.index.pruneSnapshots(this.snapshotDir) : [])];
    if (garbage.length > 0) this.ctx.log.info({ removed: garbage }, 'retrieval: removed superseded index files');
    this.ctx.log.info({ restored, offsets: this.index.appliedOffsets(), namespaces: this.index.info().map((n) => [n.namespace, n.size]) }, 'retrieval index state');
    await startCatalogConsumer(this.ctx, this.index, this.ctx.config.RETRIEVAL_CONSUMER_GROUP);
    await this.ctx.infra.jobs.process<RebuildJobData>(REBUILD_QUEUE, (job) => runRebuild(this.ctx, this.index, this.factory, job));
    this.timer = setInterval(() => void this.snapshot().catch((e) => this.ctx.log.error({ err: e }, 'snapshot failed')), this.ctx.config.RETRIEVAL_SNAPSHOT_INTERVAL_MS);
    this.timer.unref();
    // Runs after the consumer is drained (platform shutdown order), so the snapshot is final.
    this.ctx.shutdownHooks.push(async () => {
      clearInterval(this.timer);
      await this.ctx.infra.jobs.stopProcessing(REBUILD_QUEUE);
      await this.snapshot();
    });
  }

  async snapshot() {
    const r = await this.index.snapshot(this.snapshotDir);
    this.lastSnapshotAt = Date.now();
    return r;
  }

  async candidates(req: CandidatesRequest): Promise<Candidate[]> {
    const index = this.index.get(req.namespace);
    if (!index) throw new DomainError('namespace_not_found', 404, `no index for namespace '${req.namespace}'`, { namespace: req.namespace });
    let query: ArrayLike<number>;
    if (req.userId) {
      const key = stateKeys.userEmbedding(req.userId);
      const bytes = await readState(this.ctx, () => this.ctx.infra.state.get(key));
      if (!bytes) throw new DomainError('user_embedding_not_found', 404, `user '${req.userId}' has no embedding yet`, { userId: req.userId });
      query = decodeFloat32(bytes);
    } else {
      query = req.vector!;
      const problem = embeddingProblem(query);
      if (problem) throw new DomainError(problem.code, 422, problem.message);
    }
    if (query.length !== index.dim) {
      throw new DomainError('dimension_mismatch', 422, `namespace '${req.namespace}' has dimension ${index.dim}, query has ${query.length}`);
    }
    const hits = index.search(query as number[], req.k, req.filter);
    return hits.map((h) => ({ itemId: h.id, score: scoreOf(index.metric, h.distance) }));
  }

  indexes() {
    const applied = this.index.appliedOffsets();
    return {
      lastSnapshotAt: this.lastSnapshotAt,
      lastAppliedOffsets: applied,
      indexes: this.index.info().map((n) => ({ ...n, lastAppliedOffsets: applied })),
    };
  }

  async rebuild(namespace: string, kind?: IndexKind) {
    const current = this.index.get(namespace);
    if (!current) throw new DomainError('namespace_not_found', 404, `no index for namespace '${namespace}'`, { namespace });
    const id = await this.ctx.infra.jobs.add<RebuildJobData>(REBUILD_QUEUE, { namespace, kind: kind ?? current.kind });
    return this.ctx.infra.jobs.get(REBUILD_QUEUE, id);
  }

  async job(id: string) {
    const job = await this.ctx.infra.jobs.get(REBUILD_QUEUE, id);
    if (!job) throw new DomainError('job_not_found', 404, `no rebuild job '${id}'`);
    return job;
  }
}
