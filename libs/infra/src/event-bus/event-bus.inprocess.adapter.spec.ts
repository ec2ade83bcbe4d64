import assert from 'node:assert/strict';
import { eventBusContract } from './event-bus.contract';
import { Collector, sleep } from './event-bus.contract.support';
import { InProcessEventBus } from './event-bus.inprocess.adapter';

// Fast redelivery and no console noise for the failures the contract provokes on purpose.
const quiet = () => new InProcessEventBus({ retryBackoff: { initialMs: 20, maxMs: 200 }, onHandlerError: () => undefined });

eventBusContract('in-process log', async () => quiet());

describe('InProcessEventBus (embedded specifics)', () => {
  it('never runs a handler inside produce()', async () => {
    const bus = quiet();
    await bus.ensureTopics([{ topic: 't' }]);
    let inProduce = false;
    let calledInside = false;
    const c = new Collector();
    const sub = await bus.subscribe({
      groupId: 'g',
      topics: ['t'],
      handler: c.handler(() => {
        if (inProduce) calledInside = true;
      }),
    });
    inProduce = true;
    const p = bus.produce('t', [{ key: 'k', value: 'v' }]);
    inProduce = false;
    await p;
    await c.waitFor(1, 2_000);
    assert.equal(calledInside, false);
    await sub.stop();
    await bus.close();
  });

  it('drops the oldest records past the retention cap; a group behind it continues at the oldest kept', async () => {
    const bus = new InProcessEventBus({ maxRecordsPerPartition: 100, defaultPartitions: 1 });
    await bus.ensureTopics([{ topic: 't' }]);
    for (let i = 0; i < 10; i++)
      await bus.produce(
        't',
        Array.from({ length: 100 }, (_, j) => ({ value: String(i * 100 + j) })),
      );
    assert.deepEqual(await bus.endOffsets('t'), { 0: '1000' });
    const c = new Collector();
    const sub = await bus.subscribe({ groupId: 'g', topics: ['t'], fromBeginning: true, handler: c.handler() });
    await sleep(50);
    await sub.stop();
    const first = Number(c.records[0].offset);
    assert.ok(first >= 900 - 16 && first <= 900, `oldest kept offset ${first}`);
    assert.equal(c.records[c.records.length - 1].offset, '999');
    await bus.close();
  });

  it('rebalances onto added partitions', async () => {
    const bus = quiet();
    await bus.ensureTopics([{ topic: 't', partitions: 1 }]);
    const c = new Collector();
    const sub = await bus.subscribe({ groupId: 'g', topics: ['t'], handler: c.handler() });
    await bus.ensureTopics([{ topic: 't', partitions: 4 }]);
    await bus.produce(
      't',
      ['21', 'alice', 'foobar', 'abc'].map((key) => ({ key, value: key })),
    );
    await c.waitFor(4, 2_000);
    assert.deepEqual(c.records.map((r) => r.partition).sort(), [0, 1, 2, 3]);
    await sub.stop();
    await bus.close();
  });

  it('rejects unknown topics, bad subscribe options, and use after close', async () => {
    const bus = quiet();
    await assert.rejects(bus.produce('nope', [{ value: 'x' }]), /unknown topic/);
    await assert.rejects(bus.endOffsets('nope'), /unknown topic/);
    await bus.ensureTopics([{ topic: 't' }]);
    await assert.rejects(bus.subscribe({ groupId: 'g', topics: ['t'] }), /exactly one of handler/);
    await assert.rejects(bus.subscribe({ groupId: 'g', topics: ['t'], handler: async () => undefined, batchHandler: async () => undefined }), /exactly one of handler/);
    await bus.close();
    await assert.rejects(bus.ping(), /closed/);
  });

  it('keeps going while a backlog drains (yields to timers)', async () => {
    const bus = quiet();
    await bus.ensureTopics([{ topic: 't', partitions: 1 }]);
    await bus.produce(
      't',
      Array.from({ length: 50_000 }, (_, i) => ({ value: String(i) })),
    );
    let handled = 0;
    let timerFiredAt = -1;
    const sub = await bus.subscribe({ groupId: 'g', topics: ['t'], fromBeginning: true, handler: async () => void handled++ });
    setTimeout(() => (timerFiredAt = handled), 1);
    while (handled < 50_000) await sleep(5);
    await sub.stop();
    assert.ok(timerFiredAt >= 0 && timerFiredAt < 50_000, `timer ran during the drain (at ${timerFiredAt})`);
    await bus.close();
  });
});
