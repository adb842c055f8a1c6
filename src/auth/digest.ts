// HTTP Digest as SIP uses it (RFC 3261 §22.4, RFC 7616): HA1 for storage, the expected
// response for verification, and the challenge header values.

import { hash } from 'node:crypto';
import { ownString } from '../sip/own-string.js';

export type DigestAlgorithm = 'MD5' | 'SHA-256';

const HASH_NAME: Record<DigestAlgorithm, string> = { MD5: 'md5', 'SHA-256': 'sha256' };

export function digestHash(algorithm: DigestAlgorithm, data: string): string {
  return hash(HASH_NAME[algorithm], data, 'hex');
}

/** HA1 = H(username:realm:password): what an account stores instead of its password. */
export function computeHa1(algorithm: DigestAlgorithm, username: string, realm: string, password: string): string {
  return digestHash(algorithm, `${username}:${realm}:${password}`);
}

export interface DigestInput {
  readonly algorithm: DigestAlgorithm;
  /** true for the `-sess` variants (HA1 mixed with nonce and cnonce). */
  readonly sess: boolean;
  readonly ha1: string;
  readonly nonce: string;
  readonly method: string;
  readonly uri: string;
  /** `auth` or null for RFC 2069 compatibility (no qop). */
  readonly qop: 'auth' | null;
  readonly nc: string;
  readonly cnonce: string;
}

/**
 * HA2 = H(method:uri) is the same for every REGISTER of a domain (`REGISTER:sip:example.com`):
 * remembered per algorithm instead of hashed again. Keys are copies (a slice of the packet
 * would keep it alive); the cache starts over when full, so odd URIs cannot grow it.
 */
const HA2_CACHE_MAX = 1024;
const ha2Cache: Record<DigestAlgorithm, Map<string, string>> = { MD5: new Map(), 'SHA-256': new Map() };

function ha2Of(algorithm: DigestAlgorithm, method: string, uri: string): string {
  // Flat: a concatenation as a Map key hashes and compares more slowly.
  const a2 = ownString(`${method}:${uri}`);
  const cache = ha2Cache[algorithm];
  let ha2 = cache.get(a2);
  if (ha2 === undefined) {
    ha2 = digestHash(algorithm, a2);
    if (cache.size >= HA2_CACHE_MAX) cache.clear();
    cache.set(a2, ha2);
  }
  return ha2;
}

/** The `response` a client with the right password sends. */
export function computeDigestResponse(d: DigestInput): string {
  const ha1 = d.sess ? digestHash(d.algorithm, `${d.ha1}:${d.nonce}:${d.cnonce}`) : d.ha1;
  const ha2 = ha2Of(d.algorithm, d.method, d.uri);
  return d.qop === null
    ? digestHash(d.algorithm, `${ha1}:${d.nonce}:${ha2}`)
    : digestHash(d.algorithm, `${ha1}:${d.nonce}:${d.nc}:${d.cnonce}:${d.qop}:${ha2}`);
}

export interface AlgorithmParam {
  readonly algorithm: DigestAlgorithm;
  readonly sess: boolean;
}

const MD5: AlgorithmParam = Object.freeze({ algorithm: 'MD5', sess: false });
const MD5_SESS: AlgorithmParam = Object.freeze({ algorithm: 'MD5', sess: true });
const SHA_256: AlgorithmParam = Object.freeze({ algorithm: 'SHA-256', sess: false });
const SHA_256_SESS: AlgorithmParam = Object.freeze({ algorithm: 'SHA-256', sess: true });

/** Parses an `algorithm` parameter (absent means MD5, RFC 7616 §3.3). */
export function parseAlgorithm(value: string | undefined): AlgorithmParam | null {
  if (value === undefined) return MD5;
  switch (value === 'MD5' || value === 'SHA-256' ? value : value.toUpperCase()) {
    case 'MD5':
      return MD5;
    case 'MD5-SESS':
      return MD5_SESS;
    case 'SHA-256':
      return SHA_256;
    case 'SHA-256-SESS':
      return SHA_256_SESS;
    default:
      return null;
  }
}

/** WWW-Authenticate value of one challenge. */
export function challengeValue(realm: string, nonce: string, algorithm: DigestAlgorithm, stale: boolean): string {
  return `Digest realm="${realm}", nonce="${nonce}", algorithm=${algorithm}, qop="auth"${stale ? ', stale=true' : ''}`;
}
