import assert from 'node:assert/strict';
import { CircuitBreaker } from './breaker';

describe('CircuitBreaker', () => {
  it('opens after N consecutive failures, refuses while open, lets one trial through after the cooldown', () => {
    let now = 0;
    const changes: string[] = [];
    const b = new CircuitBreaker(
      'ranking',
      { failures: 3, cooldownMs: 1000 },
      () => now,
      (_, s) => changes.push(s),
    );
    b.failure();
    b.failure();
    b.success(); // resets the count
    b.failure();
    b.failure();
    assert.equal(b.state, 'closed');
    b.failure();
    assert.equal(b.state, 'open');
    assert.equal(b.tryAcquire(), false);
    now = 999;
    assert.equal(b.tryAcquire(), false);
    now = 1000;
    assert.equal(b.state, 'half_open');
    assert.equal(b.tryAcquire(), true);
    assert.equal(b.tryAcquire(), false, 'one trial at a time');
    b.failure(); // trial failed: open for another cooldown
    assert.equal(b.state, 'open');
    now = 2000;
    assert.equal(b.tryAcquire(), true);
    b.success();
    assert.equal(b.state, 'closed');
    assert.equal(b.tryAcquire(), true);
    assert.deepEqual(changes, ['open', 'closed']);
  });
});
