import { randomBytes } from 'node:crypto';
import type { StateStore } from '@recsys/infra/state-store/state-store.port';
import { TransientEventError } from './errors';

/**
 * A generation marker for state derived from Kafka. The marker key lives in the same store as the
 * state: if the store loses its data (a Redis restart without its AOF, a FLUSHALL, a failover to
 * an empty replica), the marker is gone too, which is how a service knows, rather than hopes,
 * that its state must be rebuilt by replaying its topics from the earliest retained offset.
 *
 * Every replica reads the same marker: the first to find it missing creates the next generation
 * (SET NX), the others adopt it. A consumer group named after the generation starts at the
 * earliest offset on every partition, spread over the replicas like any group.
 */
export class StateGeneration {
  private current: string | null = null;

  constructor(
    private readonly store: StateStore,
    readonly name: string,
  ) {}

  get key(): string {
    return `generation:${this.name}`;
  }

  get value(): string | null {
    return this.current;
  }

  /** Reads the marker, creating a new generation when it is missing; `fresh` = this call created it. */
  async ensure(): Promise<{ generation: string; fresh: boolean }> {
    const existing = (await this.store.get(this.key))?.toString();
    if (existing) {
      this.current = existing;
      return { generation: existing, fresh: false };
    }
    const next = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
    if (await this.store.set(this.key, next, { ifAbsent: true })) {
      this.current = next;
      return { generation: next, fresh: true };
    }
    const won = (await this.store.get(this.key))?.toString() ?? next;
    this.current = won;
    return { generation: won, fresh: false };
  }

  /** The stored marker: null when the store lost it (or never had it). Throws while the store is unreachable. */
  async read(): Promise<string | null> {
    return (await this.store.get(this.key))?.toString() ?? null;
  }

  /**
   * For writers, before each batch: throws a TransientEventError (the batch is redelivered after
   * a backoff) when the marker is not the generation this process works in, so nothing is
   * written into a store that lost its state before the rebuild starts.
   */
  async assertCurrent(): Promise<void> {
    const stored = await this.read();
    if (stored === null || stored !== this.current) {
      throw new TransientEventError(`state generation '${this.name}' changed (${this.current} -> ${stored ?? 'lost'}): waiting for the rebuild`);
    }
  }
}

/**
 * Polls the marker every `intervalMs`; calls onChange once per change (lost or replaced by
 * another replica). Errors reading the store are ignored (the store is down: readiness says so).
 */
export function watchGeneration(gen: StateGeneration, intervalMs: number, onChange: (stored: string | null) => Promise<void>, onError?: (e: unknown) => void) {
  let running = false;
  let stopped = false;
  const timer = setInterval(async () => {
    if (running || stopped) return;
    running = true;
    try {
      const stored = await gen.read();
      if (stored !== gen.value) await onChange(stored);
    } catch (e) {
      onError?.(e);
    } finally {
      running = false;
    }
  }, intervalMs);
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
