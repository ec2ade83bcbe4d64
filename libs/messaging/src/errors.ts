/**
 * The poison-message policy's two kinds of handler error.
 *
 * - Permanent: the message can never succeed (it breaks the schema or the domain rejects it). It is
 *   dead-lettered once with its code and reason, and the offset moves on. Thrown as
 *   PermanentEventError, or any error with a string `code` and `permanent: true`; contract errors
 *   (EventValidationError, InvalidEmbeddingError) count as permanent too.
 * - Transient: a dependency is unreachable (Redis, Kafka, PostgreSQL). The partition is paused and
 *   the record redelivered with backoff, as long as it takes; visible in metrics and readiness.
 *   Thrown as TransientEventError, or recognised from the driver's error (connection refused or
 *   reset, timeouts, ioredis/kafkajs/pg connection errors).
 * - Anything else is `unknown`: a bug or a record the code did not foresee. It is retried a few
 *   times (maxAttempts, in case it was transient after all), isolated to its record inside a batch
 *   by bisection, and then dead-lettered as `handler_error`: never retried forever.
 */
export class PermanentEventError extends Error {
  readonly permanent = true;
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class TransientEventError extends Error {
  readonly transient = true;
  constructor(
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}

export type ErrorKind = 'permanent' | 'transient' | 'unknown';

const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
  '57P01',
  '57P03',
  '08000',
  '08003',
  '08006',
]);
const TRANSIENT_NAMES = new Set([
  'MaxRetriesPerRequestError',
  'KafkaJSConnectionError',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSRequestTimeoutError',
  'KafkaJSConnectionClosedError',
  'KafkaJSBrokerNotFound',
  'KafkaJSLockTimeout',
  'AbortError',
  'TimeoutError',
]);
const TRANSIENT_MESSAGE =
  /Connection is closed|connect ECONNREFUSED|Stream isn't writeable|enableOfflineQueue|Reached the max retries per request|Connection terminated|timed? ?out|socket hang up|read ECONNRESET|LOADING Redis is loading|Client network socket disconnected|event bus is closed|no answer within/i;

const CONTRACT_ERRORS = new Set(['EventValidationError', 'InvalidEmbeddingError']);

export function classifyError(e: unknown): ErrorKind {
  if (e === null || typeof e !== 'object') return 'unknown';
  const err = e as {
    permanent?: unknown;
    transient?: unknown;
    code?: unknown;
    name?: unknown;
    message?: unknown;
    retriable?: unknown;
    cause?: unknown;
    errors?: unknown;
  };
  if (err.permanent === true && typeof err.code === 'string') return 'permanent';
  if (err.transient === true) return 'transient';
  const ctor = (e as object).constructor?.name;
  if (ctor && CONTRACT_ERRORS.has(ctor)) return 'permanent';
  if (typeof err.code === 'string' && TRANSIENT_CODES.has(err.code)) return 'transient';
  if ((typeof err.name === 'string' && TRANSIENT_NAMES.has(err.name)) || (ctor && TRANSIENT_NAMES.has(ctor))) return 'transient';
  if (err.retriable === true) return 'transient';
  if (typeof err.message === 'string' && TRANSIENT_MESSAGE.test(err.message)) return 'transient';
  if (Array.isArray(err.errors) && err.errors.length > 0 && err.errors.every((x) => classifyError(x) === 'transient')) return 'transient';
  if (err.cause && err.cause !== e) return classifyError(err.cause) === 'transient' ? 'transient' : 'unknown';
  return 'unknown';
}

/** The code an error is dead-lettered with. */
export function errorCode(e: unknown, fallback = 'handler_error'): string {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' && /^[a-z][a-z0-9_]{0,63}$/.test(code) ? code : fallback;
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
