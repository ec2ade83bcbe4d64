import type { EventBus } from '@recsys/infra/event-bus/event-bus.port';
import { EventInput, TopicName, validateEvent } from '@recsys/contracts';

/** Validates on produce: an invalid event is rejected here (EventValidationError) and never reaches the log. */
export class EventPublisher {
  constructor(private readonly bus: EventBus) {}

  async publish<T extends TopicName>(topic: T, events: EventInput<T>[]): Promise<void> {
    if (events.length === 0) return;
    const records = events.map((e) => {
      const valid = validateEvent(topic, e) as { key: string };
      return { key: valid.key, value: JSON.stringify(valid), headers: { 'content-type': 'application/json' } };
    });
    await this.bus.produce(topic, records);
  }
}
