import type { SqlDatabase, SqlExecutor } from '@recsys/infra/sql/sql.port';
import type { IdempotencyLedger } from './idempotency';

/**
 * Event-id ledger in the `processed_events` table (migration 0001). For consumers whose effects
 * live in PostgreSQL, `applyOnce` makes "mark + effect" one transaction: a redelivered or
 * replayed event finds its id and changes nothing, even after a crash between the two.
 */
export class SqlIdempotencyLedger implements IdempotencyLedger {
  constructor(private readonly db: SqlDatabase) {}

  async seen(consumer: string, eventId: string): Promise<boolean> {
    const r = await this.db.query('SELECT 1 FROM processed_events WHERE consumer = $1 AND event_id = $2', [consumer, eventId]);
    return r.rowCount > 0;
  }

  async mark(consumer: string, eventId: string): Promise<void> {
    await this.db.query('INSERT INTO processed_events (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [consumer, eventId]);
  }

  /** Runs effect in the same transaction as the mark; returns false (and runs nothing) for a seen id. */
  async applyOnce(consumer: string, eventId: string, effect: (tx: SqlExecutor) => Promise<void>): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const r = await tx.query('INSERT INTO processed_events (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [consumer, eventId]);
      if (r.rowCount === 0) return false;
      await effect(tx);
      return true;
    });
  }
}
