import assert from 'node:assert/strict';
import { mulberry32 } from '@recsys/ann/synthetic';
import { ecpmOf, runAuction, tieHash, type AuctionBid } from './auction';

function randomBids(rand: () => number, n: number, campaigns = n): AuctionBid[] {
  return Array.from({ length: n }, (_, i) => {
    const cpc = rand() < 0.5;
    return {
      adId: `ad-${i}`,
      campaignId: `c-${i % campaigns}`,
      bidType: cpc ? 'cpc' : 'cpm',
      // coarse values so that ties happen
      bid: cpc ? Math.round(rand() * 20) / 10 + 0.1 : Math.round(rand() * 10) + 1,
      pctr: Math.round(rand() * 50) / 1000 + 0.001,
    } as AuctionBid;
  });
}

describe('runAuction', () => {
  const rand = mulberry32(7);
  const cases = Array.from({ length: 300 }, (_, k) => ({
    bids: randomBids(rand, 1 + Math.floor(rand() * 40), 1 + Math.floor(rand() * 40)),
    slots: 1 + Math.floor(rand() * 4),
    reserve: rand() < 0.5 ? 0 : Math.round(rand() * 8),
    mechanism: (k % 2 ? 'gsp' : 'vcg') as 'gsp' | 'vcg',
    seed: k,
  }));

  it('a winner never pays more than its bid, nor less than the reserve', () => {
    let winners = 0;
    for (const c of cases) {
      for (const w of runAuction(c.bids, { slots: c.slots, reserveEcpm: c.reserve, mechanism: c.mechanism, tieSeed: c.seed })) {
        winners++;
        assert.ok(w.price <= w.bid + 1e-12, `${w.adId} pays ${w.price} > bid ${w.bid}`);
        assert.ok(w.priceEcpm <= w.ecpm + 1e-9);
        assert.ok(w.priceEcpm >= c.reserve - 1e-9, `price ${w.priceEcpm} under reserve ${c.reserve}`);
        assert.ok(w.ecpm >= c.reserve);
      }
    }
    assert.ok(winners > 300);
  });

  it('prices (eCPM) and eCPMs are monotone down the slots; one ad per campaign', () => {
    for (const c of cases) {
      const ws = runAuction(c.bids, { slots: c.slots, reserveEcpm: c.reserve, mechanism: c.mechanism, tieSeed: c.seed });
      ws.forEach((w, i) => assert.equal(w.slot, i));
      for (let i = 1; i < ws.length; i++) {
        assert.ok(ws[i].priceEcpm <= ws[i - 1].priceEcpm + 1e-9, 'price increases down the slots');
        assert.ok(ws[i].ecpm <= ws[i - 1].ecpm);
      }
      assert.equal(new Set(ws.map((w) => w.campaignId)).size, ws.length);
    }
  });

  it('GSP: each winner pays the next eCPM (or the reserve when no one is below)', () => {
    const bids: AuctionBid[] = [
      { adId: 'a', campaignId: 'A', bidType: 'cpm', bid: 10, pctr: 0.01 },
      { adId: 'b', campaignId: 'B', bidType: 'cpc', bid: 2, pctr: 0.004 }, // eCPM 8
      { adId: 'c', campaignId: 'C', bidType: 'cpm', bid: 5, pctr: 0.5 },
      { adId: 'd', campaignId: 'D', bidType: 'cpm', bid: 1, pctr: 0.5 }, // below the reserve
    ];
    const ws = runAuction(bids, { slots: 3, reserveEcpm: 3 });
    assert.deepEqual(
      ws.map((w) => [w.adId, w.priceEcpm, +w.price.toFixed(6)]),
      [
        ['a', 8, 8],
        ['b', 5, 1.25], // 5 / (0.004 x 1000) per click
        ['c', 3, 3],
      ],
    );
  });

  it('the reserve excludes every bid below it', () => {
    const bids: AuctionBid[] = [{ adId: 'x', campaignId: 'X', bidType: 'cpm', bid: 2, pctr: 0 }];
    assert.deepEqual(runAuction(bids, { slots: 2, reserveEcpm: 2.5 }), []);
    assert.equal(runAuction(bids, { slots: 2, reserveEcpm: 2 })[0].priceEcpm, 2);
  });

  it('VCG equals GSP with one slot', () => {
    for (const c of cases) {
      const g = runAuction(c.bids, { slots: 1, reserveEcpm: c.reserve, mechanism: 'gsp', tieSeed: c.seed });
      const v = runAuction(c.bids, { slots: 1, reserveEcpm: c.reserve, mechanism: 'vcg', tieSeed: c.seed });
      assert.deepEqual(v, g);
    }
  });

  it('VCG never charges more than GSP, and with position factors matches the textbook formula', () => {
    for (const c of cases) {
      const g = runAuction(c.bids, { slots: c.slots, reserveEcpm: c.reserve, tieSeed: c.seed });
      const v = runAuction(c.bids, { slots: c.slots, reserveEcpm: c.reserve, mechanism: 'vcg', slotFactors: [1, 0.7, 0.5, 0.2], tieSeed: c.seed });
      assert.deepEqual(
        v.map((w) => w.adId),
        g.map((w) => w.adId),
      );
      v.forEach((w, i) => assert.ok(w.priceEcpm <= g[i].priceEcpm + 1e-9));
    }
    // b = 10, 8, 5, 3 for 3 slots, alpha = 1, .5, .25: P_3 = .25*3 = .75; P_2 = (.5-.25)*5 + .75 = 2; P_1 = (1-.5)*8 + 2 = 6
    const bids: AuctionBid[] = [10, 8, 5, 3].map((b, i) => ({ adId: `a${i}`, campaignId: `c${i}`, bidType: 'cpm', bid: b, pctr: 0.1 }));
    const v = runAuction(bids, { slots: 3, mechanism: 'vcg', slotFactors: [1, 0.5, 0.25] });
    assert.deepEqual(
      v.map((w) => w.priceEcpm),
      [6, 4, 3],
    );
  });

  it('breaks ties deterministically: same seed same order, independent of input order; different seeds spread the wins', () => {
    const tied: AuctionBid[] = Array.from({ length: 10 }, (_, i) => ({ adId: `t${i}`, campaignId: `c${i}`, bidType: 'cpm', bid: 4, pctr: 0.01 }));
    const first = runAuction(tied, { slots: 3, tieSeed: 42 }).map((w) => w.adId);
    const shuffled = [...tied].reverse();
    assert.deepEqual(
      runAuction(shuffled, { slots: 3, tieSeed: 42 }).map((w) => w.adId),
      first,
    );
    const winners = new Set<string>();
    for (let seed = 0; seed < 50; seed++) winners.add(runAuction(tied, { slots: 1, tieSeed: seed })[0].adId);
    assert.ok(winners.size >= 5, `only ${winners.size} distinct tie winners over 50 seeds`);
    // a tie pays its own bid
    assert.ok(runAuction(tied, { slots: 3 }).every((w) => w.priceEcpm === 4));
    assert.notEqual(tieHash('a', 1), tieHash('a', 2));
  });

  it('keeps the best ad of a campaign, and skips invalid bids', () => {
    const bids: AuctionBid[] = [
      { adId: 'low', campaignId: 'A', bidType: 'cpm', bid: 3, pctr: 0 },
      { adId: 'high', campaignId: 'A', bidType: 'cpm', bid: 6, pctr: 0 },
      { adId: 'nan', campaignId: 'B', bidType: 'cpc', bid: 1, pctr: Number.NaN },
      { adId: 'neg', campaignId: 'C', bidType: 'cpm', bid: -1, pctr: 0.1 },
      { adId: 'b', campaignId: 'D', bidType: 'cpm', bid: 1, pctr: 0 },
    ];
    assert.deepEqual(
      runAuction(bids, { slots: 3 }).map((w) => w.adId),
      ['high', 'b'],
    );
    assert.deepEqual(
      runAuction(bids, { slots: 3, onePerCampaign: false }).map((w) => w.adId),
      ['high', 'low', 'b'],
    );
    assert.equal(ecpmOf({ bidType: 'cpc', bid: 2, pctr: 0.01 }), 20);
    assert.throws(() => runAuction(bids, { slots: -1 }), RangeError);
    assert.deepEqual(runAuction(bids, { slots: 0 }), []);
  });
});
