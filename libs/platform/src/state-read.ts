import type { AppContext } from './app-context';
import { DomainError } from './problem';

/**
 * Runs a read of Redis-held state with a bound (STATE_READ_TIMEOUT_MS): when the store does not
 * answer in time or is unreachable, the request gets a 503 problem+json (`state_unavailable`,
 * with Retry-After semantics left to the client), never a 500 or a hang.
 */
export async function readState<T>(ctx: Pick<AppContext, 'config' | 'infra'>, read: () => Promise<T>): Promise<T> {
  const ms = ctx.config.STATE_READ_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StateTimeout(ms)), ms);
  });
  try {
    return await Promise.race([read(), timeout]);
  } catch (e) {
    if (e instanceof DomainError) throw e;
    const reason = e instanceof StateTimeout ? e.message : `state store unavailable: ${(e as Error)?.message ?? String(e)}`;
    throw new DomainError('state_unavailable', 503, reason, { store: ctx.infra.kinds.state });
  } finally {
    clearTimeout(timer);
  }
}

class StateTimeout extends Error {
  constructor(ms: number) {
    super(`the state store did not answer within ${ms} ms`);
  }
}
