import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

export interface TrackingPayload {
  /** requestId */
  r: string;
  /** userId */
  u: string;
  /** itemId (the ad's creative id for ads) */
  i: string;
  /** position in the page */
  p: number;
  /** propensity of the item at this slot (ads: the ad-load decision's) */
  q: number;
  /** isAd */
  a: boolean;
  /** variants: experiment -> variant */
  v: Record<string, string>;
  /** ad id and campaign (ads only) */
  ad?: string;
  c?: string;
  /** issued at (epoch ms) */
  t: number;
}

const b64 = (b: Buffer) => b.toString('base64url');

/** `<base64url JSON>.<base64url HMAC-SHA256, 16 bytes>`: readable by anyone, forgeable by no one without the secret. */
export class TrackingTokens {
  /** The secret as a key object once (an HMAC per item of every page: no re-encoding of the secret each time). */
  private readonly key: KeyObject;

  constructor(secret: string) {
    this.key = createSecretKey(Buffer.from(secret, 'utf8'));
  }

  sign(p: TrackingPayload): string {
    const body = b64(Buffer.from(JSON.stringify(p)));
    return `${body}.${this.mac(body)}`;
  }

  /** The payload, or undefined when the token was not issued with this secret. */
  verify(token: string): TrackingPayload | undefined {
    const dot = token.lastIndexOf('.');
    if (dot <= 0) return undefined;
    const body = token.slice(0, dot);
    const mac = Buffer.from(token.slice(dot + 1));
    const expected = Buffer.from(this.mac(body));
    if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) return undefined;
    try {
      return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as TrackingPayload;
    } catch {
      return undefined;
    }
  }

  private mac(body: string): string {
    return b64(createHmac('sha256', this.key).update(body).digest().subarray(0, 16));
  }
}
