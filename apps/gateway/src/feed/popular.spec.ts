import assert from 'node:assert/strict';
import { PopularItems } from './popular';

describe('PopularItems', () => {
  it('ranks by decayed counts: recent impressions outweigh older ones by the half-life', () => {
    let now = 0;
    const p = new PopularItems(1000, 100, () => now);
    for (let i = 0; i < 3; i++) p.record('old');
    now = 2000; // two half-lives later: 'old' weighs 3/4 of a fresh impression
    p.record('new');
    now = 3001; // past the 1 s cache
    assert.deepEqual(p.top(2), ['new', 'old']);
    p.record('old', 5);
    now = 4002;
    assert.deepEqual(p.top(1), ['old']);
    p.delete('old');
    assert.deepEqual(p.top(5), ['new']);
  });
});
