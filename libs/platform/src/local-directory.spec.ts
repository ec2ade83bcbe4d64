import { LocalDirectory } from './local-directory';

describe('LocalDirectory', () => {
  it('returns what was provided, refuses a second provider, and forgets a withdrawn capability', () => {
    const d = new LocalDirectory();
    const rank = (ids: string[]) => ids.map((id) => ({ id, pctr: 0.1 }));
    expect(d.lookup('ranking.rank')).toBeUndefined();
    d.provide('ranking.rank', rank);
    expect(d.lookup<typeof rank>('ranking.rank')!(['a'])).toEqual([{ id: 'a', pctr: 0.1 }]);
    expect(() => d.provide('ranking.rank', rank)).toThrow(/already provided/);
    d.withdraw('ranking.rank');
    expect(d.has('ranking.rank')).toBe(false);
  });
});
