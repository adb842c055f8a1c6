// HTTP Digest as SIP uses it (RFC 3261 §22.4, RFC 7616): HA1 for storage, the expected
// response for verification, and the challenge header values.

import { hash } from 'node:crypto';

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

/** The `response` a client with the right password sends. */
export function computeDigestResponse(d: DigestInput): string {
  const ha1 = d.sess ? digestHash(d.algorithm, `${d.ha1}:${d.nonce}:${d.cnonce}`) : d.ha1;
  const ha2 = digestHash(d.algorithm, `${d.method}:${d.uri}`);
  return d.qop === null
    ? digestHash(d.algorithm, `${ha1}:${d.nonce}:${ha2}`)
    : digestHash(d.algorithm, `${ha1}:${d.nonce}:${d.nc}:${d.cnonce}:${d.qop}:${ha2}`);
}

/** Parses an `algorithm` parameter (absent means MD5, RFC 7616 §3.3). */
export function parseAlgorithm(value: string | undefined): { algorithm: DigestAlgorithm; sess: boolean } | null {
  if (value === undefined) return { algorithm: 'MD5', sess: false };
  switch (value.toUpperCase()) {
    case 'MD5':
      return { algorithm: 'MD5', sess: false };
    case 'MD5-SESS':
      return { algorithm: 'MD5', sess: true };
    case 'SHA-256':
      return { algorithm: 'SHA-256', sess: false };
    case 'SHA-256-SESS':
      return { algorithm: 'SHA-256', sess: true };
    default:
      return null;
  }
}

/** WWW-Authenticate value of one challenge. */
export function challengeValue(realm: string, nonce: string, algorithm: DigestAlgorithm, stale: boolean): string {
  return `Digest realm="${realm}", nonce="${nonce}", algorithm=${algorithm}, qop="auth"${stale ? ', stale=true' : ''}`;
}
