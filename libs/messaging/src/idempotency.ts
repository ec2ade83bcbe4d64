import type { StateStore } from '@recsys/infra/state-store/state-store.port';

/**
 * Remembers which event ids a consumer has applied, so a replayed topic changes nothing.
 * A handler whose effects live in the same store can include `markOp` in its own transaction,
 * making "apply + mark" atomic; otherwise the consumer marks right after the handler succeeded
 * (a crash between the two redelivers the event once, which idempotent handlers absorb).
 */
export interface IdempotencyLedger {
  seen(consumer: string, eventId: string): Promise<boolean>;
  mark(consumer: string, eventId: string): Promise<void>;
}

export class StateStoreIdempotencyLedger implements IdempotencyLedger {
  constructor(
    private readonly store: StateStore,
    /** Longer than any replay window a deployment expects; 14 days by default. */
    private readonly ttlMs = 14 * 24 * 3600 * 1000,
  ) {}

  static key(consumer: string, eventId: string): string {
    return `processed:${consumer}:${eventId}`;
  }

  async seen(consumer: string, eventId: string): Promise<boolean> {
    return this.store.exists(StateStoreIdempotencyLedger.key(consumer, eventId));
  }

  async mark(consumer: string, eventId: string): Promise<void> {
    await this.store.set(StateStoreIdempotencyLedger.key(consumer, eventId), '1', { ttlMs: this.ttlMs });
  }
}
