/**
 * In-process JobQueue for the embedded mode and unit tests: the BullMQ semantics the contract pins
 * down (FIFO per queue, per-queue concurrency, attempts with exponential backoff, progress, jobId
 * dedupe, finished-job retention), without Redis. Jobs live only as long as the process.
 *
 * Data and results are JSON round-tripped, as BullMQ stores them, so a handler never sees the
 * caller's object (and a Date arrives as a string in both adapters).
 */
import type { AddJobOptions, JobHandler, JobQueue, JobState, JobStatus } from './job-queue.port';
import { DEFAULT_BACKOFF_DELAY_MS, DEFAULT_KEEP_FINISHED, DEFAULT_WAIT_TIMEOUT_MS, backoffMs, checkAttempts, checkConcurrency, checkJobId, checkQueueName, errorMessage } from './job-queue.validate';

export interface InProcessJobQueueOptions {
  /** First retry delay; doubles on every further retry. Default 1000 ms (as the BullMQ adapter). */
  backoffDelayMs?: number;
  /** Completed and failed jobs kept per queue (each); older ones are forgotten, and so is their jobId. */
  keepFinished?: number;
}

interface JobRecord {
  id: string;
  queue: string;
  /** JSON text of the data; parsed afresh for every reader. */
  data: string | undefined;
  state: JobState;
  progress: number;
  result?: string;
  error?: string;
  attempts: number;
  attemptsMade: number;
  createdAt: number;
  finishedAt?: number;
}

interface QueueState {
  jobs: Map<string, JobRecord>;
  waiting: string[];
  handler?: JobHandler;
  concurrency: number;
  active: number;
  nextId: number;
  completed: string[];
  failed: string[];
}

const parse = (json: string | undefined): unknown => (json === undefined ? undefined : JSON.parse(json));

export class InProcessJobQueue implements JobQueue {
  readonly kind = 'inprocess';
  private readonly queues = new Map<string, QueueState>();
  private readonly waiters = new Map<string, Set<(status: JobStatus) => void>>();
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private readonly backoffDelayMs: number;
  private readonly keepFinished: number;
  private closed = false;

  constructor(options: InProcessJobQueueOptions = {}) {
    this.backoffDelayMs = options.backoffDelayMs ?? DEFAULT_BACKOFF_DELAY_MS;
    this.keepFinished = options.keepFinished ?? DEFAULT_KEEP_FINISHED;
  }

  private q(name: string): QueueState {
    let q = this.queues.get(name);
    if (!q) {
      checkQueueName(name);
      q = { jobs: new Map(), waiting: [], concurrency: 1, active: 0, nextId: 1, completed: [], failed: [] };
      this.queues.set(name, q);
    }
    return q;
  }

  async process<D = unknown, R = unknown>(queue: string, handler: JobHandler<D, R>, options: { concurrency?: number } = {}): Promise<void> {
    if (this.closed) throw new Error('job queue is closed');
    const q = this.q(queue);
    if (q.handler) throw new Error(`queue '${queue}' already has a worker`);
    q.concurrency = checkConcurrency(options.concurrency);
    q.handler = handler as JobHandler;
    this.schedulePump(queue);
  }

  async stopProcessing(queue: string): Promise<void> {
    const q = this.q(queue);
    q.handler = undefined;
    // Jobs already running finish; nothing new starts until a worker is registered again.
    await Promise.allSettled([...this.running]);
  }

  async add<D = unknown>(queue: string, data: D, options: AddJobOptions = {}): Promise<string> {
    if (this.closed) throw new Error('job queue is closed');
    const attempts = checkAttempts(options.attempts);
    const q = this.q(queue);
    let id: string;
    if (options.jobId !== undefined) {
      id = checkJobId(options.jobId);
      if (q.jobs.has(id)) return id; // dedupe: the first add wins, whatever its state
    } else {
      id = String(q.nextId++);
    }
    q.jobs.set(id, {
      id,
      queue,
      data: data === undefined ? undefined : JSON.stringify(data),
      state: 'waiting',
      progress: 0,
      attempts,
      attemptsMade: 0,
      createdAt: Date.now(),
    });
    q.waiting.push(id);
    this.schedulePump(queue);
    return id;
  }

  async get(queue: string, id: string): Promise<JobStatus | null> {
    const job = this.queues.get(queue)?.jobs.get(id);
    return job ? this.status(job) : null;
  }

  async waitFor(queue: string, id: string, timeoutMs = DEFAULT_WAIT_TIMEOUT_MS): Promise<JobStatus> {
    // Checked and subscribed in the same tick: a job finishing in between cannot be missed.
    const job = this.queues.get(queue)?.jobs.get(id);
    if (job && (job.state === 'completed' || job.state === 'failed')) return this.status(job);
    const key = `${queue}\u0000${id}`;
    return new Promise<JobStatus>((resolve, reject) => {
      let set = this.waiters.get(key);
      if (!set) this.waiters.set(key, (set = new Set()));
      const waiter = (status: JobStatus) => {
        clearTimeout(timer);
        resolve(status);
      };
      set.add(waiter);
      const timer = setTimeout(() => {
        set!.delete(waiter);
        if (set!.size === 0) this.waiters.delete(key);
        const state = this.queues.get(queue)?.jobs.get(id)?.state ?? 'not found';
        reject(new Error(`timed out after ${timeoutMs} ms waiting for job ${queue}/${id} (state: ${state})`));
      }, timeoutMs);
    });
  }

  async ping(): Promise<void> {
    if (this.closed) throw new Error('job queue is closed');
  }

  /** Stops taking work, cancels pending retries and waits for the jobs that are running. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.retryTimers) clearTimeout(t);
    this.retryTimers.clear();
    await Promise.allSettled([...this.running]);
  }

  private status(job: JobRecord): JobStatus {
    const s: JobStatus = {
      id: job.id,
      queue: job.queue,
      state: job.state,
      progress: job.progress,
      data: parse(job.data),
      createdAt: job.createdAt,
    };
    if (job.state === 'completed') s.result = parse(job.result);
    if (job.state === 'failed') s.error = job.error;
    if (job.finishedAt !== undefined) s.finishedAt = job.finishedAt;
    return s;
  }

  /** Asynchronous like a worker picking from Redis: add() returns before the handler starts. */
  private schedulePump(queue: string): void {
    setImmediate(() => this.pump(queue));
  }

  private pump(queue: string): void {
    const q = this.queues.get(queue);
    if (!q?.handler || this.closed) return;
    while (q.active < q.concurrency && q.waiting.length > 0) {
      const job = q.jobs.get(q.waiting.shift()!);
      if (!job) continue;
      q.active++;
      const run = this.run(q, job).finally(() => {
        this.running.delete(run);
        q.active--;
        this.pump(queue);
      });
      this.running.add(run);
    }
  }

  private async run(q: QueueState, job: JobRecord): Promise<void> {
    job.state = 'active';
    try {
      const result = await q.handler!({
        id: job.id,
        name: job.queue,
        data: parse(job.data),
        attempt: job.attemptsMade + 1,
        updateProgress: async (percent: number) => {
          if (!Number.isFinite(percent)) throw new RangeError(`progress must be a finite number, got ${percent}`);
          job.progress = percent;
        },
      });
      // BullMQ stores an undefined result as null.
      job.result = JSON.stringify(result === undefined ? null : result);
      this.finish(q, job, 'completed');
    } catch (err) {
      job.attemptsMade++;
      if (job.attemptsMade < job.attempts && !this.closed) {
        job.state = 'waiting';
        const timer = setTimeout(
          () => {
            this.retryTimers.delete(timer);
            q.waiting.push(job.id);
            this.pump(job.queue);
          },
          backoffMs(this.backoffDelayMs, job.attemptsMade),
        );
        this.retryTimers.add(timer);
      } else {
        job.error = errorMessage(err);
        this.finish(q, job, 'failed');
      }
    }
  }

  private finish(q: QueueState, job: JobRecord, state: 'completed' | 'failed'): void {
    job.state = state;
    job.finishedAt = Date.now();
    const kept = state === 'completed' ? q.completed : q.failed;
    kept.push(job.id);
    while (kept.length > this.keepFinished) q.jobs.delete(kept.shift()!);
    const key = `${job.queue}\u0000${job.id}`;
    const set = this.waiters.get(key);
    if (set) {
      this.waiters.delete(key);
      const status = this.status(job);
      for (const w of set) w(status);
    }
  }
}
