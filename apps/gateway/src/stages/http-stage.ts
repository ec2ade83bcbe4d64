import { Pool } from 'undici';
import { CircuitBreaker } from './breaker';

/** Why a stage call did not produce a result; the feed takes the stage's fallback for any of them. */
export type StageFailure = 'timeout' | 'breaker_open' | 'unavailable' | 'http_error' | 'bad_response' | 'not_found';

export class StageError extends Error {
  constructor(
    readonly stage: string,
    readonly reason: StageFailure,
    message: string,
    readonly status?: number,
    readonly body?: unknown,
  ) {
    super(`${stage}: ${reason}: ${message}`);
  }
}

export interface StageResponse<T> {
  body: T;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * One downstream app over HTTP: an undici keep-alive pool to its origin, a deadline per call
 * (aborts the request: the caller waits no longer than the deadline) and a circuit breaker.
 * A 404 the caller declares expected (`okStatuses`) is a result, not a failure.
 *
 * The origin is resolved at call time (a suite started on port 0 announces where its apps listen
 * once they are bound); the pool is made on the first call and remade if the origin changes.
 */
export class HttpStage {
  private pool?: Pool;
  private poolOrigin?: string;

  constructor(
    readonly name: string,
    private readonly resolveOrigin: () => string,
    readonly breaker: CircuitBreaker,
    private readonly connections: number,
  ) {}

  get origin(): string {
    return this.resolveOrigin();
  }

  private poolFor(origin: string): Pool {
    if (!this.pool || this.poolOrigin !== origin) {
      void this.pool?.close().catch(() => undefined);
      this.pool = new Pool(origin, { connections: this.connections, pipelining: 1, keepAliveTimeout: 30_000, connectTimeout: 1000 });
      this.poolOrigin = origin;
    }
    return this.pool;
  }

  async post<T>(path: string, body: unknown, deadlineMs: number, opts: { expectedStatuses?: number[] } = {}): Promise<StageResponse<T>> {
    return this.call<T>('POST', path, deadlineMs, JSON.stringify(body), opts.expectedStatuses);
  }

  async get<T>(path: string, deadlineMs: number, opts: { expectedStatuses?: number[] } = {}): Promise<StageResponse<T>> {
    return this.call<T>('GET', path, deadlineMs, undefined, opts.expectedStatuses);
  }

  private async call<T>(method: 'GET' | 'POST', path: string, deadlineMs: number, body: string | undefined, expected: number[] = []): Promise<StageResponse<T>> {
    if (deadlineMs <= 0) throw new StageError(this.name, 'timeout', 'no time left in the fetch budget');
    if (!this.breaker.tryAcquire()) throw new StageError(this.name, 'breaker_open', 'circuit open');
    const ac = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ac.abort();
    }, deadlineMs);
    try {
      const res = await this.poolFor(this.resolveOrigin()).request({
        method,
        path,
        body,
        headers: body ? { 'content-type': 'application/json' } : {},
        signal: ac.signal,
      });
      const text = await res.body.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        this.breaker.failure();
        throw new StageError(this.name, 'bad_response', `not JSON (status ${res.statusCode})`, res.statusCode);
      }
      if (res.statusCode >= 200 && res.statusCode < 300) {
        this.breaker.success();
        return { body: parsed as T, headers: res.headers };
      }
      if (expected.includes(res.statusCode)) {
        // The dependency answered correctly (e.g. 404 unknown user): healthy, but no result.
        this.breaker.success();
        throw new StageError(this.name, 'not_found', `status ${res.statusCode}`, res.statusCode, parsed);
      }
      // 4xx other than the expected ones means we sent something it refuses: the stage is not usable
      // for this request, but it is alive; 5xx counts against the breaker.
      if (res.statusCode >= 500) this.breaker.failure();
      else this.breaker.success();
      throw new StageError(this.name, 'http_error', `status ${res.statusCode}`, res.statusCode, parsed);
    } catch (e) {
      if (e instanceof StageError) throw e;
      this.breaker.failure();
      if (timedOut) throw new StageError(this.name, 'timeout', `no answer within ${deadlineMs} ms`);
      throw new StageError(this.name, 'unavailable', (e as Error).message);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await this.pool?.close().catch(() => undefined);
  }
}
