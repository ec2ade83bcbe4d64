/**
 * Tracking tokens: what a billing event needs to find the win it pays for. `<payload>.<mac>`: the
 * payload is base64url of a small JSON (campaign, ad, campaign-local day of the win, bid type,
 * reservation id), the mac base64url of HMAC-SHA256(key, payload) cut to 128 bits. Billing verifies
 * the mac before anything else (POST /v1/ads/events answers 422 invalid_token, the ads.events
 * consumer dead-letters the event), so a token cannot be forged or edited to bill another campaign;
 * and a valid token only bills while its reservation exists, once.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { BidType } from '@recsys/ads';

export interface TrackingToken {
  /** campaign id */
  c: string;
  /** ad (creative) id */
  a: string;
  /** campaign-local day of the win, YYYY-MM-DD */
  d: string;
  b: BidType;
  /** reservation id */
  r: string;
}

export function newReservationId(): string {
  return randomBytes(9).toString('base64url');
}

const MAC_BYTES = 16;

/** Signs and verifies tracking tokens with one secret key (ADS_TOKEN_SECRET, or the suite's shared key in the state store). */
export class TokenCodec {
  private readonly key: Buffer;

  constructor(key: string | Buffer) {
    this.key = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
    if (this.key.length < 16) throw new RangeError('the token key needs at least 16 bytes');
  }

  private mac(payload: string): Buffer {
    return createHmac('sha256', this.key).update(payload).digest().subarray(0, MAC_BYTES);
  }

  encode(t: TrackingToken): string {
    const payload = Buffer.from(JSON.stringify(t)).toString('base64url');
    return `${payload}.${this.mac(payload).toString('base64url')}`;
  }

  /** The token's fields when its mac is this key's and its fields are well formed; null otherwise. */
  decode(s: string): TrackingToken | null {
    const dot = s.indexOf('.');
    if (dot <= 0 || dot !== s.lastIndexOf('.')) return null;
    const payload = s.slice(0, dot);
    const given = Buffer.from(s.slice(dot + 1), 'base64url');
    if (given.length !== MAC_BYTES || !timingSafeEqual(given, this.mac(payload))) return null;
    try {
      const t = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as TrackingToken;
      if (typeof t.c !== 'string' || typeof t.a !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(t.d) || (t.b !== 'cpc' && t.b !== 'cpm') || typeof t.r !== 'string') return null;
      return t;
    } catch {
      return null;
    }
  }
}
