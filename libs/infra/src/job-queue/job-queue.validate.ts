/**
 * Rules shared by every JobQueue adapter, so the in-process runner refuses what BullMQ refuses
 * and a caller tested against one does not break on the other.
 */
export const DEFAULT_BACKOFF_DELAY_MS = 1000;
export const DEFAULT_KEEP_FINISHED = 1000;
export const DEFAULT_WAIT_TIMEOUT_MS = 30_000;

/** BullMQ rejects custom ids that are integers (they would collide with its own counter) or hold ':'. */
export function checkJobId(jobId: string): string {
  if (jobId === '' || `${parseInt(jobId, 10)}` === jobId) {
    throw new Error(`jobId must not be empty or an integer, got '${jobId}'`);
  }
  if (jobId.includes(':')) throw new Error(`jobId must not contain ':', got '${jobId}'`);
  return jobId;
}

/** BullMQ builds its Redis keys as `<prefix>:<queue>:...`, so a queue name cannot hold ':'. */
export function checkQueueName(queue: string): string {
  if (queue === '' || queue.includes(':')) throw new Error(`queue name must be non-empty without ':', got '${queue}'`);
  return queue;
}

export function checkAttempts(attempts: number | undefined): number {
  const n = attempts ?? 1;
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`attempts must be an integer >= 1, got ${attempts}`);
  return n;
}

export function checkConcurrency(concurrency: number | undefined): number {
  const n = concurrency ?? 1;
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`concurrency must be an integer >= 1, got ${concurrency}`);
  return n;
}

/** Wait before retry number `attemptsMade` (1 after the first failure): delay * 2^(attemptsMade-1), as BullMQ's 'exponential'. */
export function backoffMs(delay: number, attemptsMade: number): number {
  return Math.round(delay * 2 ** (attemptsMade - 1));
}

/** What an error looks like in JobStatus.error. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
