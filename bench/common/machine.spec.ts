import { cpus, totalmem } from 'node:os';
import { machine } from './machine';

describe('bench/common/machine', () => {
  it('records cpus, model, memory, os, node version and the load average', () => {
    const m = machine();
    expect(m.cpus).toBe(cpus().length);
    expect(m.cpuModel).toBe(cpus()[0]?.model ?? 'unknown');
    expect(m.memGiB).toBeCloseTo(totalmem() / 2 ** 30, 1);
    expect(m.node).toBe(process.version);
    expect(m.os).toMatch(new RegExp(`^${process.platform} `));
    expect(m.loadavgAtStart).toHaveLength(3);
    expect(m.loadavgAtEnd).toBeUndefined();
    expect(JSON.parse(JSON.stringify(m))).toEqual(m);
  });

  it('at the end keeps the start load average and adds the end one, plus extra fields', () => {
    const start = { ...machine(), loadavgAtStart: [9, 8, 7] };
    const end = machine({ redis: '8.0.0' }, start);
    expect(end.loadavgAtStart).toEqual([9, 8, 7]);
    expect(end.loadavgAtEnd).toHaveLength(3);
    expect(end.redis).toBe('8.0.0');
  });
});
