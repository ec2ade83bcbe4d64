/**
 * JobQueue on Redis through BullMQ (the maintained successor of Bull, by the same authors; Bull
 * itself only gets maintenance fixes). One BullMQ Queue and at most one Worker per queue name.
 *
 * Connections: every Queue shares one ioredis connection (maxRetriesPerRequest 1, so add() and
 * get() reject within a couple of reconnect attempts while Redis is down). Every Worker gets its
 * own connection with maxRetriesPerRequest null, which BullMQ requires for its blocking commands
 * (it duplicates that connection once more for the blocking pop).
 */
import { Queue, Worker } from 'bullmq';
import type { Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';
import type { AddJobOptions, JobHandler, JobQueue, JobState, JobStatus } from './job-queue.port';
import { DEFAULT_BACKOFF_DELAY_MS, DEFAULT_KEEP_FINISHED, DEFAULT_WAIT_TIMEOUT_MS, checkAttempts, checkConcurrency, checkJobId, checkQueueName, errorMessage } from './job-queue.validate';

export interface BullMqJobQueueOptions {
  /** BullMQ key prefix (default `bull`): keys are `<prefix>:<queue>:...`. */
  prefix?: string;
  /** First retry delay of the exponential backoff; doubles on every further retry. Default 1000 ms. */
  backoffDelayMs?: number;
  /** Completed and failed jobs kept per queue (each, BullMQ removeOnComplete/removeOnFail count). */
  keepFinished?: number;
  /** ping() rejects after this long. Default 1000 ms. */
  pingTimeoutMs?: number;
  /** Extra ioredis options for every connection this adapter opens. */
  redisOptions?: RedisOptions;
}

/** waitFor() polls: simpler than a QueueEvents stream (one more connection) and plenty for tests and CLIs. */
const POLL_MS = 50;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function mapState(state: string): JobState | null {
  switch (state) {
    case 'active':
    case 'completed':
    case 'failed':
      return state;
    case 'waiting':
    case 'delayed': // includes a job waiting for its retry backoff
    case 'prioritized':
    case 'waiting-children':
      return 'waiting';
    default:
      return null; // 'unknown': removed between the two reads
  }
}

export class BullMqJobQueue implements JobQueue {
  readonly kind = 'bullmq';
  private readonly connection: Redis;
  private readonly queues = new Map<string, Queue>();
  private readonly workers = new Map<string, { worker: Worker; connection: Redis }>();
  private readonly prefix: string;
  private readonly backoffDelayMs: number;
  private readonly keepFinished: number;
  private readonly pingTimeoutMs: number;
  private lastError: Error | undefined;
  private closed = false;

  constructor(
    private readonly redisUrl: string,
    private readonly options: BullMqJobQueueOptions = {},
  ) {
    this.prefix = options.prefix ?? 'bull';
    this.backoffDelayMs = options.backoffDelayMs ?? DEFAULT_BACKOFF_DELAY_MS;
    this.keepFinished = options.keepFinished ?? DEFAULT_KEEP_FINISHED;
    this.pingTimeoutMs = options.pingTimeoutMs ?? 1000;
    this.connection = new Redis(redisUrl, { maxRetriesPerRequest: 1, connectTimeout: 2000, ...options.redisOptions });
    this.connection.on('error', this.onError);
  }

  /** Recorded for ping(); also keeps ioredis/BullMQ from printing or throwing on every reconnect. */
  private readonly onError = (err: Error): void => {
    this.lastError = err;
  };

  private queue(name: string): Queue {
    if (this.closed) throw new Error('job queue is closed');
    let q = this.queues.get(name);
    if (!q) {
      checkQueueName(name);
      q = new Queue(name, { connection: this.connection, prefix: this.prefix });
      q.on('error', this.onError);
      this.queues.set(name, q);
    }
    return q;
  }

  async process<D = unknown, R = unknown>(queue: string, handler: JobHandler<D, R>, options: { concurrency?: number } = {}): Promise<void> {
    if (this.closed) throw new Error('job queue is closed');
    if (this.workers.has(queue)) throw new Error(`queue '${queue}' already has a worker`);
    checkQueueName(queue);
    const concurrency = checkConcurrency(options.concurrency);
    const connection = new Redis(this.redisUrl, { ...this.options.redisOptions, maxRetriesPerRequest: null });
    connection.on('error', this.onError);
    const worker = new Worker(
      queue,
      async (job: Job) =>
        handler({
          id: job.id!,
          name: job.name,
          data: job.data as D,
          // attemptsMade counts finished (failed) attempts, so the running one is +1.
          attempt: job.attemptsMade + 1,
          updateProgress: (percent: number) => {
            if (!Number.isFinite(percent)) throw new RangeError(`progress must be a finite number, got ${percent}`);
            return job.updateProgress(percent);
          },
        }),
      { connection, prefix: this.prefix, concurrency },
    );
    worker.on('error', this.onError);
    this.workers.set(queue, { worker, connection });
    await worker.waitUntilReady();
  }

  async add<D = unknown>(queue: string, data: D, options: AddJobOptions = {}): Promise<string> {
    const attempts = checkAttempts(options.attempts);
    const jobId = options.jobId === undefined ? undefined : checkJobId(options.jobId);
    // With a jobId BullMQ returns the existing job instead of adding a second one (dedupe).
    const job = await this.queue(queue).add(queue, data, {
      jobId,
      attempts,
      backoff: { type: 'exponential', delay: this.backoffDelayMs },
      removeOnComplete: { count: this.keepFinished },
      removeOnFail: { count: this.keepFinished },
    });
    return job.id!;
  }

  async get(queue: string, id: string): Promise<JobStatus | null> {
    // The job hash and its state are two reads. Reading the state first means a terminal state
    // is always paired with the hash written when the job finished (returnvalue/failedReason);
    // a job that finished in between shows finishedOn, and then the state is read again.
    const q = this.queue(queue);
    let state = mapState(await q.getJobState(id));
    if (!state) return null;
    const job = await q.getJob(id);
    if (!job) return null;
    if (state !== 'completed' && state !== 'failed' && job.finishedOn !== undefined) state = mapState(await job.getState());
    if (!state) return null;
    const status: JobStatus = {
      id: job.id!,
      queue,
      state,
      progress: typeof job.progress === 'number' ? job.progress : 0,
      data: job.data,
      createdAt: job.timestamp,
    };
    if (state === 'completed') status.result = job.returnvalue;
    if (state === 'failed') status.error = job.failedReason;
    if ((state === 'completed' || state === 'failed') && job.finishedOn !== undefined) status.finishedAt = job.finishedOn;
    return status;
  }

  async waitFor(queue: string, id: string, timeoutMs = DEFAULT_WAIT_TIMEOUT_MS): Promise<JobStatus> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const status = await this.get(queue, id);
      if (status && (status.state === 'completed' || status.state === 'failed')) return status;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`timed out after ${timeoutMs} ms waiting for job ${queue}/${id} (state: ${status?.state ?? 'not found'})`);
      }
      await sleep(Math.min(POLL_MS, left));
    }
  }

  async ping(): Promise<void> {
    const status = this.connection.status;
    if (status === 'reconnecting' || status === 'close' || status === 'end') {
      throw new Error(`redis unavailable (connection ${status})${this.lastError ? `: ${errorMessage(this.lastError)}` : ''}`);
    }
    const reply = this.connection.ping();
    reply.catch(() => undefined); // may settle after the timeout won
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        reply,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`redis ping timed out after ${this.pingTimeoutMs} ms`)), this.pingTimeoutMs);
        }),
      ]);
    } catch (err) {
      const message = errorMessage(err);
      throw message.startsWith('redis ') ? err : new Error(`redis ping failed: ${message}`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  /** Workers first (each waits for its running jobs), then queues, then the connections. */
  async stopProcessing(queue: string): Promise<void> {
    const w = this.workers.get(queue);
    if (!w) return;
    this.workers.delete(queue);
    await w.worker.close();
    w.connection.disconnect();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.workers.values()].map(({ worker }) => worker.close()));
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
    const connections = [...[...this.workers.values()].map((w) => w.connection), this.connection];
    await Promise.allSettled(
      connections.map(async (c) => {
        if (c.status === 'end') return;
        if (c.status !== 'ready') return c.disconnect();
        await c.quit().catch(() => c.disconnect());
      }),
    );
  }
}
