import { cli, count, int, list, names, num, UsageError } from './cli';

const OPTIONS = { out: { type: 'string' }, n: { type: 'string' }, fast: { type: 'boolean' } } as const;

describe('bench/common/cli: util.parseArgs with shared value checks', () => {
  it('parses string and boolean flags', () => {
    expect(cli(['--out', 'x.json', '--fast', '--n=3'], OPTIONS, 'usage')).toEqual({ out: 'x.json', fast: true, n: '3' });
    expect(cli([], OPTIONS, 'usage')).toEqual({});
  });

  it('an unknown flag, a missing value, a positional or --help throw a UsageError carrying the usage', () => {
    for (const argv of [['--nope'], ['--out'], ['stray'], ['--help']]) {
      expect(() => cli(argv, OPTIONS, 'USAGE TEXT')).toThrow(UsageError);
      expect(() => cli(argv, OPTIONS, 'USAGE TEXT')).toThrow(/USAGE TEXT/);
    }
  });

  it('converts and checks values, naming the flag', () => {
    expect(int('12', '--n')).toBe(12);
    expect(int(undefined, '--n', 7)).toBe(7);
    expect(() => int('0', '--n')).toThrow(/--n: expected a positive integer/);
    expect(() => int('1.5', '--n', 1)).toThrow(UsageError);
    expect(count('0', '--c', 5)).toBe(0);
    expect(() => count('-1', '--c', 5)).toThrow(/--c/);
    expect(num('-2.5', '--x', 0)).toBe(-2.5);
    expect(() => num('abc', '--x', 0)).toThrow(/--x: expected a number/);
    expect(list('1,2, 4', '--efs', [9])).toEqual([1, 2, 4]);
    expect(list(undefined, '--efs', [9])).toEqual([9]);
    expect(() => list('1,x', '--efs', [])).toThrow(/--efs/);
    expect(names('a,b', '--e', ['a', 'b', 'c'] as const, ['a'])).toEqual(['a', 'b']);
    expect(() => names('a,z', '--e', ['a', 'b'] as const, ['a'])).toThrow(/--e: expected a comma-separated list of a, b/);
  });
});
