/**
 * Multi-slot auction on eCPM: generalized second price (GSP) with a reserve, or VCG.
 *
 * Every bid is ranked by eCPM (expected revenue per thousand impressions: CPM bid, or CPC bid x
 * pCTR x 1000). Slot 0 is the best slot. Each winner pays, per impression, the least eCPM that
 * keeps its slot: GSP the next eCPM (or the reserve when none is left), VCG the externality it
 * imposes on the bidders below it, with slot click-through factors `slotFactors` (alpha_0 >=
 * alpha_1 >= ...; all 1 by default, i.e. position-independent). A CPC winner's price per click is
 * its per-impression eCPM price divided by its pCTR, so neither ever exceeds its bid.
 *
 * Ties in eCPM are broken deterministically by a seeded hash of the ad id (the same request seed
 * always gives the same order, and no ad id wins every tie by its spelling).
 */

export type BidType = 'cpc' | 'cpm';

export interface AuctionBid {
  adId: string;
  campaignId: string;
  bidType: BidType;
  /** CPC: price per click; CPM: price per thousand impressions (same currency unit). */
  bid: number;
  /** Predicted click probability of this ad in this request (used for CPC). */
  pctr: number;
}

export interface AuctionOptions {
  /** Number of slots to fill (best first). */
  slots: number;
  /** Minimum eCPM to win any slot; also the floor of every price. Default 0. */
  reserveEcpm?: number;
  mechanism?: 'gsp' | 'vcg';
  /** Relative click-through of each slot (VCG only), non-increasing, alpha_0 = 1 by convention. */
  slotFactors?: number[];
  /** At most one ad per campaign (its best). Default true. */
  onePerCampaign?: boolean;
  /** Seed of the tie-breaking hash (e.g. a hash of the request id). Default 0. */
  tieSeed?: number;
}

export interface AuctionWinner {
  slot: number;
  adId: string;
  campaignId: string;
  bidType: BidType;
  bid: number;
  pctr: number;
  ecpm: number;
  /** Price per thousand impressions in eCPM terms (what the slot costs the winner per mille). */
  priceEcpm: number;
  /** Price in the bid's unit: per click for CPC, per mille for CPM. Never above `bid`. */
  price: number;
}

export function ecpmOf(b: Pick<AuctionBid, 'bidType' | 'bid' | 'pctr'>): number {
  return b.bidType === 'cpm' ? b.bid : b.bid * b.pctr * 1000;
}

/** FNV-1a 32-bit of the string, mixed with a seed. */
export function tieHash(s: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // final avalanche (murmur3 fmix32)
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

interface Ranked extends AuctionBid {
  ecpm: number;
}

/**
 * Ranks the bids (eCPM at or above the reserve, one per campaign) and returns the top `slots + 1`
 * in order: winners and the first loser that sets the last price. O(n k) with k = slots + 1; the
 * tie hash is computed only for bids whose eCPMs are equal.
 */
function rank(bids: readonly AuctionBid[], opts: AuctionOptions): Ranked[] {
  const reserve = opts.reserveEcpm ?? 0;
  const seed = opts.tieSeed ?? 0;
  const onePer = opts.onePerCampaign ?? true;
  const keep = opts.slots + 1;
  const n = bids.length;
  const ecpm = new Float64Array(n);
  const tie = new Float64Array(n).fill(-1);
  const tieOf = (i: number) => (tie[i] >= 0 ? tie[i] : (tie[i] = tieHash(bids[i].adId, seed)));
  /** true when bid i ranks before bid j */
  const before = (i: number, j: number) => {
    if (ecpm[i] !== ecpm[j]) return ecpm[i] > ecpm[j];
    const ti = tieOf(i);
    const tj = tieOf(j);
    if (ti !== tj) return ti < tj;
    return bids[i].adId < bids[j].adId;
  };
  const candidates: number[] = [];
  const bestOf = onePer ? new Map<string, number>() : null;
  for (let i = 0; i < n; i++) {
    const b = bids[i];
    if (!(b.bid > 0) || !Number.isFinite(b.bid) || !(b.pctr >= 0) || !(b.pctr <= 1)) continue;
    const e = ecpmOf(b);
    if (!(e >= reserve) || !(e > 0)) continue;
    ecpm[i] = e;
    if (!bestOf) candidates.push(i);
    else {
      const cur = bestOf.get(b.campaignId);
      if (cur === undefined || before(i, cur)) bestOf.set(b.campaignId, i);
    }
  }
  if (bestOf) for (const i of bestOf.values()) candidates.push(i);
  // insertion into a sorted top-k list
  const top: number[] = [];
  for (const i of candidates) {
    if (top.length === keep && !before(i, top[keep - 1])) continue;
    let p = top.length === keep ? keep - 1 : top.length;
    if (top.length < keep) top.push(i);
    while (p > 0 && before(i, top[p - 1])) {
      top[p] = top[p - 1];
      p--;
    }
    top[p] = i;
  }
  return top.map((i) => ({ ...bids[i], ecpm: ecpm[i] }));
}

export function runAuction(bids: readonly AuctionBid[], opts: AuctionOptions): AuctionWinner[] {
  if (!Number.isInteger(opts.slots) || opts.slots < 0) throw new RangeError(`slots must be a non-negative integer, got ${opts.slots}`);
  if (opts.slots === 0) return [];
  const reserve = opts.reserveEcpm ?? 0;
  const ranked = rank(bids, opts);
  const n = Math.min(opts.slots, ranked.length);
  const next = (j: number) => (j < ranked.length ? Math.max(ranked[j].ecpm, reserve) : reserve);
  const prices: number[] = new Array(n);
  if ((opts.mechanism ?? 'gsp') === 'gsp') {
    for (let i = 0; i < n; i++) prices[i] = next(i + 1);
  } else {
    const alpha = slotFactors(opts.slotFactors, opts.slots);
    // Payment of slot i's winner (total, in click-weighted eCPM) = sum_{j>i} (alpha_{j-1} - alpha_j) * b_j,
    // with alpha beyond the filled slots = 0; per impression at slot i: divided by alpha_i.
    // Computed from the bottom up: P_i = (alpha_i - alpha_{i+1}) b_{i+1} + P_{i+1}.
    let total = 0;
    for (let i = n - 1; i >= 0; i--) {
      const aNext = i + 1 < n ? alpha[i + 1] : 0;
      total += (alpha[i] - aNext) * next(i + 1);
      prices[i] = alpha[i] > 0 ? Math.max(reserve, total / alpha[i]) : reserve;
    }
  }
  const out: AuctionWinner[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const r = ranked[i];
    const priceEcpm = Math.min(prices[i], r.ecpm);
    const price = r.bidType === 'cpm' ? priceEcpm : Math.min(r.bid, priceEcpm / (r.pctr * 1000));
    out[i] = { slot: i, adId: r.adId, campaignId: r.campaignId, bidType: r.bidType, bid: r.bid, pctr: r.pctr, ecpm: r.ecpm, priceEcpm, price };
  }
  return out;
}

function slotFactors(given: number[] | undefined, slots: number): number[] {
  if (!given) return new Array(slots).fill(1);
  if (given.length < slots) throw new RangeError(`slotFactors has ${given.length} entries for ${slots} slots`);
  for (let i = 0; i < slots; i++) {
    if (!(given[i] >= 0) || (i > 0 && given[i] > given[i - 1])) throw new RangeError('slotFactors must be non-negative and non-increasing');
  }
  return given.slice(0, slots);
}
