import assert from 'node:assert/strict';
import { fnv1a32, fnv1a32Bytes } from './fnv1a';

describe('fnv1a32', () => {
  it('matches the published FNV-1a 32-bit test values', () => {
    assert.equal(fnv1a32(''), 0x811c9dc5);
    assert.equal(fnv1a32('a'), 0xe40c292c);
    assert.equal(fnv1a32('foobar'), 0xbf9cf968);
  });

  it('hashes the UTF-8 bytes: equals the byte version for multi-byte, astral and lone-surrogate strings', () => {
    const samples = ['u1', 'ñandú', '東京', 'emoji 😀 x', 'a\u0800b\uffff', 'lone \ud800 high', 'lone \udc00 low', 'end \ud83d'];
    let seed = 7;
    const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    for (let i = 0; i < 200; i++) samples.push(Array.from({ length: 1 + Math.floor(rnd() * 12) }, () => String.fromCharCode(Math.floor(rnd() * 0xffff))).join(''));
    for (const s of samples) assert.equal(fnv1a32(s), fnv1a32Bytes(new TextEncoder().encode(s)), JSON.stringify(s));
  });

  it('is a uint32', () => {
    for (const s of ['x', 'user-123456', 'item:9']) {
      const h = fnv1a32(s);
      assert.ok(Number.isInteger(h) && h >= 0 && h < 2 ** 32);
    }
  });
});
