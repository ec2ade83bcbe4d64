/**
 * Tracking tokens: what a billing event needs to find the win it pays for. base64url of a small
 * JSON: campaign, ad, campaign-local day of the win, bid type, and the reservation id. A token only
 * bills while its reservation exists, so a forged or replayed token cannot charge anything twice.
 */
import { randomBytes } from 'node:crypto';
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

export function encodeToken(t: TrackingToken): string {
  return Buffer.from(JSON.stringify(t)).toString('base64url');
}

export function decodeToken(s: string): TrackingToken | null {
  try {
    const t = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as TrackingToken;
    if (typeof t.c !== 'string' || typeof t.a !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(t.d) || (t.b !== 'cpc' && t.b !== 'cpm') || typeof t.r !== 'string') return null;
    return t;
  } catch {
    return null;
  }
}
