/**
 * JobQueue: named queues of long jobs with progress (index rebuilds, training, imports).
 * Every adapter passes job-queue.contract.ts. Queue names must not contain ':' (BullMQ key syntax).
 */
export type JobState = 'waiting' | 'active' | 'completed' | 'failed';

export interface JobContext<D = unknown> {
  id: string;
  name: string;
  data: D;
  attempt: number;
  /** 0..100 */
  updateProgress(percent: number): Promise<void>;
}

export interface JobStatus {
  id: string;
  queue: string;
  state: JobState;
  progress: number;
  data: unknown;
  result?: unknown;
  error?: string;
  createdAt: number;
  finishedAt?: number;
}

export interface AddJobOptions {
  /**
   * Same jobId twice enqueues once (while the finished job is still retained). As in BullMQ, a
   * custom id must not be an integer string nor contain ':'.
   */
  jobId?: string;
  attempts?: number;
}

export type JobHandler<D = unknown, R = unknown> = (job: JobContext<D>) => Promise<R>;

export interface JobQueue {
  readonly kind: string;
  /** Starts a worker for the queue. */
  process<D = unknown, R = unknown>(queue: string, handler: JobHandler<D, R>, options?: { concurrency?: number }): Promise<void>;
  /** Stops this process's worker for the queue (waits for its running jobs); jobs stay queued. */
  stopProcessing(queue: string): Promise<void>;
  add<D = unknown>(queue: string, data: D, options?: AddJobOptions): Promise<string>;
  get(queue: string, id: string): Promise<JobStatus | null>;
  /** Resolves with the final status once the job completed or failed (tests, CLIs). */
  waitFor(queue: string, id: string, timeoutMs?: number): Promise<JobStatus>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
