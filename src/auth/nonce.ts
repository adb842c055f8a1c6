// Stateless signed nonces with bounded replay protection.
//
// A nonce is hex(ts) ‖ hex(nid) ‖ mac: the second it was issued, a per-challenge counter
// (8 hex digits each) and a MAC over both (96 bits, 16 base64url characters), so any node
// holding the secret can check it without a lookup.
// Nonce-count replay protection needs some state; like Kamailio's nid pools it is a fixed
// array indexed by nid modulo its size holding the highest nc seen, so memory is constant
// whatever the load: once the counter has moved a whole array past a nonce, that nonce is
// treated as stale (the phone simply re-authenticates, as after expiry).

import { hash, randomBytes } from 'node:crypto';
import { sameCharsAt } from './constant-time.js';

const TS_BYTES = 4;
const NID_BYTES = 4;
/** 16 base64url characters are exactly the first 12 bytes (96 bits) of the digest. */
const MAC_CHARS = 16;
const NONCE_CHARS = 8 + 8 + MAC_CHARS;
/**
 * log2 of how many recently issued nonces keep their MAC (32K, ~2.7 s of challenges at
 * 12,000/s; under 1 MB): the authenticated REGISTER comes a round trip after its challenge, and
 * its nonce is then recognised by comparison instead of hashing again. A MAC is a function
 * of (ts, nid) alone, so comparing with the one issued is the same test as recomputing it.
 */
const RECENT_BITS = 15;

export type NonceCheck =
  /** Issued by us, within its lifetime, nc higher than any seen: accept. */
  | 'ok'
  /** Issued by us but too old, or its replay slot was recycled: re-challenge with stale=true. */
  | 'stale'
  /** Issued by us, fresh, but this nc was already used: a replay. */
  | 'replay'
  /** Not a nonce of ours (bad format or MAC). */
  | 'invalid';

export interface NonceOptions {
  /** At least 16 random bytes; nodes of one cluster share it. */
  readonly secret: Buffer;
  /** Seconds a nonce is accepted. */
  readonly lifetime: number;
  /** log2 of the replay array size (default 21: 2M slots, 8 MB). */
  readonly slotBits?: number;
}

export class NonceService {
  private readonly secret: Buffer;
  private lifetime: number;
  private readonly slots: number;
  private readonly mask: number;
  /** Highest nc accepted per nid slot; 0 = none yet. */
  private readonly highestNc: Uint32Array;
  /** Next nid to issue (wraps at 2^32); starts at random so a restart within the same
   * second cannot make an old nonce's nid look current. */
  private nextNid: number;
  /** Seconds before which nonces are not trusted: replay state from before is gone. */
  private readonly bootSecond: number;
  /** secret ‖ ts ‖ nid: the MAC input, reused to avoid an allocation per nonce. */
  private readonly macInput: Buffer;
  /** Recently issued nonces by nid modulo their number: ts, nid and the MAC's characters. */
  private readonly recentIssued = new Uint8Array(1 << RECENT_BITS);
  private readonly recentTs = new Uint32Array(1 << RECENT_BITS);
  private readonly recentNid = new Uint32Array(1 << RECENT_BITS);
  private readonly recentMac = new Uint8Array(MAC_CHARS << RECENT_BITS);

  /** Seconds nonces are accepted, from now on (a run-time setting). */
  setLifetime(seconds: number): void {
    this.lifetime = seconds;
  }

  constructor(opts: NonceOptions, nowMs: number) {
    if (opts.secret.length < 16) throw new Error('nonce secret must be at least 16 bytes');
    this.secret = opts.secret;
    this.lifetime = opts.lifetime;
    const bits = opts.slotBits ?? 21;
    this.slots = 2 ** bits;
    this.mask = this.slots - 1;
    this.highestNc = new Uint32Array(this.slots);
    this.bootSecond = Math.floor(nowMs / 1000);
    this.nextNid = randomBytes(4).readUInt32BE(0);
    this.macInput = Buffer.allocUnsafe(this.secret.length + TS_BYTES + NID_BYTES);
    this.secret.copy(this.macInput, 0);
  }

  /** A fresh nonce for a challenge. */
  issue(nowMs: number): string {
    const ts = Math.floor(nowMs / 1000) >>> 0;
    const nid = this.nextNid;
    this.nextNid = (nid + 1) >>> 0;
    this.highestNc[nid & this.mask] = 0;
    const mac = this.mac(ts, nid);
    const r = nid & ((1 << RECENT_BITS) - 1);
    this.recentIssued[r] = 1;
    this.recentTs[r] = ts;
    this.recentNid[r] = nid;
    for (let i = 0, at = r * MAC_CHARS; i < MAC_CHARS; i++) this.recentMac[at + i] = mac.charCodeAt(i);
    return hex8(ts) + hex8(nid) + mac;
  }

  /**
   * Checks a nonce and, when `commit` is true and it is acceptable, records `nc` as used.
   * Callers verify the digest response first and commit only for a correct one, so a
   * wrong password cannot burn a legitimate client's nonce-count.
   */
  check(nonce: string, nc: number, nowMs: number, commit: boolean): NonceCheck {
    if (nonce.length !== NONCE_CHARS) return 'invalid';
    const ts = parseHex8(nonce, 0);
    const nid = parseHex8(nonce, 8);
    if (ts < 0 || nid < 0) return 'invalid';
    if (!this.authentic(ts, nid, nonce)) return 'invalid';
    const now = Math.floor(nowMs / 1000);
    if (ts < this.bootSecond || now - ts >= this.lifetime || ts > now + 1) return 'stale';
    // Issued more than a whole array ago: its slot now belongs to a newer nonce.
    if (((this.nextNid - nid) >>> 0) > this.slots || ((this.nextNid - nid) >>> 0) === 0) return 'stale';
    if (!(nc >= 1 && nc <= 0xffffffff)) return 'replay';
    const slot = nid & this.mask;
    if (nc <= this.highestNc[slot]!) return 'replay';
    if (commit) this.highestNc[slot] = nc;
    return 'ok';
  }

  /** Whether `nonce` carries the MAC of (ts, nid), from the recent ones when it is there. */
  private authentic(ts: number, nid: number, nonce: string): boolean {
    const r = nid & ((1 << RECENT_BITS) - 1);
    if (this.recentIssued[r] === 1 && this.recentNid[r] === nid && this.recentTs[r] === ts) {
      let diff = 0;
      for (let i = 0, at = r * MAC_CHARS; i < MAC_CHARS; i++) diff |= this.recentMac[at + i]! ^ nonce.charCodeAt(16 + i);
      return diff === 0;
    }
    return sameCharsAt(this.mac(ts, nid), 0, nonce, 16, MAC_CHARS);
  }

  /**
   * Keyed SHA-256 over a fixed-length input (no length extension possible), 3x cheaper than
   * HMAC; as a string, since a digest returned as a Buffer costs twice the hashing itself.
   */
  private mac(ts: number, nid: number): string {
    const input = this.macInput;
    const off = this.secret.length;
    input.writeUInt32BE(ts, off);
    input.writeUInt32BE(nid, off + TS_BYTES);
    return hash('sha256', input, 'base64url').slice(0, MAC_CHARS);
  }
}

/** Character codes of the lowercase hex digits. */
const HEX = [48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102];

/** `v` (unsigned 32-bit) as eight lowercase hex digits. */
function hex8(v: number): string {
  return String.fromCharCode(
    HEX[(v >>> 28) & 15]!, HEX[(v >>> 24) & 15]!, HEX[(v >>> 20) & 15]!, HEX[(v >>> 16) & 15]!,
    HEX[(v >>> 12) & 15]!, HEX[(v >>> 8) & 15]!, HEX[(v >>> 4) & 15]!, HEX[v & 15]!,
  );
}

/** Eight lowercase hex digits at `at` as an unsigned number, or -1. */
function parseHex8(s: string, at: number): number {
  let v = 0;
  for (let i = at; i < at + 8; i++) {
    const c = s.charCodeAt(i);
    let d: number;
    if (c >= 48 && c <= 57) d = c - 48;
    else if (c >= 97 && c <= 102) d = c - 87;
    else return -1;
    v = v * 16 + d;
  }
  return v;
}
