import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * Command lines through Node's util.parseArgs (strict: an unknown flag or a missing value is an
 * error that prints the usage), plus the value checks the benchmarks share. util.parseArgs returns
 * strings; int/num/list turn them into numbers with an error naming the flag.
 */
export type Options = NonNullable<ParseArgsConfig['options']>;

export class UsageError extends Error {}

export function cli<O extends Options>(argv: string[], options: O, usage: string) {
  if (argv.includes('--help') || argv.includes('-h')) throw new UsageError(usage);
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n${usage}`);
  }
}

/** A positive integer (or undefined when the flag is absent and no default is given). */
export function int(v: string | undefined, flag: string): number;
export function int(v: string | undefined, flag: string, dflt: number): number;
export function int(v: string | undefined, flag: string, dflt?: number): number {
  if (v === undefined && dflt !== undefined) return dflt;
  const n = Number(v);
  if (v === undefined || !Number.isInteger(n) || n <= 0) throw new UsageError(`${flag}: expected a positive integer, got "${v}"`);
  return n;
}

/** A non-negative integer. */
export function count(v: string | undefined, flag: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${flag}: expected a non-negative integer, got "${v}"`);
  return n;
}

/** A finite number. */
export function num(v: string | undefined, flag: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${flag}: expected a number, got "${v}"`);
  return n;
}

/** A comma-separated list of positive numbers. */
export function list(v: string | undefined, flag: string, dflt: number[]): number[] {
  if (v === undefined) return dflt;
  const out = v.split(',').map((s) => Number(s.trim()));
  if (out.length === 0 || out.some((x) => !Number.isFinite(x) || x <= 0)) throw new UsageError(`${flag}: expected a comma-separated list of positive numbers, got "${v}"`);
  return out;
}

/** A comma-separated list of names, each one of allowed. */
export function names<T extends string>(v: string | undefined, flag: string, allowed: readonly T[], dflt: T[]): T[] {
  if (v === undefined) return dflt;
  const out = v.split(',').map((s) => s.trim());
  const bad = out.filter((x) => !allowed.includes(x as T));
  if (out.length === 0 || bad.length > 0) throw new UsageError(`${flag}: expected a comma-separated list of ${allowed.join(', ')}, got "${v}"`);
  return out as T[];
}

/** Runs main, printing a UsageError's message (usage) without a stack and exiting 2. */
export function runMain(main: () => Promise<void> | void): void {
  Promise.resolve()
    .then(main)
    .catch((e: unknown) => {
      if (e instanceof UsageError) {
        process.stderr.write(`${e.message}\n`);
        process.exit(2);
      }
      console.error(e);
      process.exit(1);
    });
}
