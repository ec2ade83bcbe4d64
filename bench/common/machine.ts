import { cpus, loadavg, platform, release, totalmem } from 'node:os';

/**
 * The `machine` block every benchmark JSON carries: what ran it and how busy the machine was
 * (the machine is often shared, so the load average goes next to the figures).
 */
export interface Machine {
  cpus: number;
  cpuModel: string;
  memGiB: number;
  os: string;
  node: string;
  /** 1, 5 and 15 minute load averages when the benchmark started (machine(): now). */
  loadavgAtStart: number[];
  /** The same at the end, when the benchmark passes its start block to machine(start). */
  loadavgAtEnd?: number[];
  /** Anything else a benchmark records about its environment (redis version, python, ...). */
  [extra: string]: unknown;
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

/**
 * machine() at the start of a run; machine({ ...extra }) adds fields; machine(extra, start) at the
 * end keeps start's load average as loadavgAtStart and records the current one as loadavgAtEnd.
 */
export function machine(extra: Record<string, unknown> = {}, start?: Pick<Machine, 'loadavgAtStart'>): Machine {
  const c = cpus();
  const now = loadavg().map(round2);
  return {
    cpus: c.length,
    cpuModel: c[0]?.model ?? 'unknown',
    memGiB: round2(totalmem() / 2 ** 30),
    os: `${platform()} ${release()}`,
    node: process.version,
    loadavgAtStart: start ? start.loadavgAtStart : now,
    ...(start ? { loadavgAtEnd: now } : {}),
    ...extra,
  };
}
