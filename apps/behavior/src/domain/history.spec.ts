import assert from 'node:assert/strict';
import { Entry, appendToSegment, decodeHead, decodeSegment, emptyHead, encodeHead, encodeSegment } from './history';

const entry = (i: number): Entry => ({ ts: 1000 + i, eventId: `ev-${i}-é`, itemId: `item-${i % 7}`, type: i % 2 ? 'click' : 'view', ver: i % 3 });

describe('history head encoding', () => {
  it('encodeHead with appended entries equals the head whose inline segment was appended to first', () => {
    const head = emptyHead(4);
    head.sum.set([0.5, -1, 2, 3]);
    head.total = 12;
    head.stamp = 77;
    head.tailSeq = 9;
    head.foldedSeq = 3;
    const old = Array.from({ length: 10 }, (_, i) => entry(i));
    const added = Array.from({ length: 2 }, (_, i) => entry(10 + i));
    head.segments = [{ id: 1, count: 12, skip: 2, firstTs: old[2].ts, firstEventId: old[2].eventId, lastTs: added[1].ts, lastEventId: added[1].eventId }];
    const raw = encodeSegment(old);
    head.open = raw;
    const fused = encodeHead(head, added);
    head.open = appendToSegment(raw, added);
    const twoStep = encodeHead(head);
    assert.deepEqual(fused, twoStep);
    const back = decodeHead(fused);
    assert.deepEqual(decodeSegment(back.open!, 2), [...old.slice(2), ...added]);
    assert.equal(back.tailSeq, 9);
    assert.deepEqual(back.segments, head.segments);
    assert.deepEqual(Array.from(back.sum), [0.5, -1, 2, 3]);
    assert.equal(raw.readUInt32LE(4), 10, 'the stored segment bytes are not modified');
  });

  it('refuses to append without an inline segment', () => {
    assert.throws(() => encodeHead(emptyHead(2), [entry(1)]), /inline segment/);
  });
});
