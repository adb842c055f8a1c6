// Verifying the Digest credentials of a request against an account (RFC 3261 §22, RFC 7616).
// Two steps so the account lookup (I/O) stays with the caller: pick the credentials for our
// realm, then verify them against the account found (or not found) for their username.

import type { AuthValue } from '../sip/message.js';
import { sameCharsAt } from './constant-time.js';
import type { AccountRecord } from '../store/store.js';
import { computeDigestResponse, parseAlgorithm, type DigestAlgorithm } from './digest.js';
import type { NonceService } from './nonce.js';

export interface DigestCredentials {
  readonly username: string;
  readonly realm: string;
  readonly nonce: string;
  readonly uri: string;
  readonly response: string;
  readonly algorithm: DigestAlgorithm;
  readonly sess: boolean;
  readonly qop: 'auth' | null;
  readonly nc: string;
  readonly cnonce: string;
}

export type CredentialsSelection =
  | { readonly kind: 'none' }
  | { readonly kind: 'malformed'; readonly reason: string }
  | { readonly kind: 'credentials'; readonly credentials: DigestCredentials };

const NO_CREDENTIALS: CredentialsSelection = Object.freeze({ kind: 'none' });

/** The Digest credentials addressed to `realm` (RFC 3261 §22.4: one per realm), parsed. */
export function selectCredentials(authorization: readonly AuthValue[], realm: string, allowed: readonly DigestAlgorithm[]): CredentialsSelection {
  let found: AuthValue | null = null;
  for (let i = 0; i < authorization.length; i++) {
    const a = authorization[i]!;
    // Exact spellings first: every phone writes `Digest` and the realm it was given.
    if (a.scheme !== 'Digest' && a.scheme.toLowerCase() !== 'digest') continue;
    const r = a.params.get('realm');
    if (r !== undefined && (r === realm || r.toLowerCase() === realm)) {
      found = a;
      break;
    }
  }
  if (found === null) return NO_CREDENTIALS;
  const p = found.params;
  const username = p.get('username');
  const nonce = p.get('nonce');
  const uri = p.get('uri');
  const response = p.get('response');
  if (username === undefined || nonce === undefined || uri === undefined || response === undefined) {
    return { kind: 'malformed', reason: 'Authorization lacks username, nonce, uri or response' };
  }
  const alg = parseAlgorithm(p.get('algorithm'));
  if (alg === null || !allowed.includes(alg.algorithm)) {
    return { kind: 'malformed', reason: `algorithm ${p.get('algorithm')} is not offered` };
  }
  const qopText = p.get('qop');
  let qop: 'auth' | null = null;
  let nc = '';
  let cnonce = '';
  if (qopText !== undefined) {
    if (qopText !== 'auth' && qopText.toLowerCase() !== 'auth') return { kind: 'malformed', reason: `qop ${qopText} is not offered` };
    qop = 'auth';
    nc = p.get('nc') ?? '';
    cnonce = p.get('cnonce') ?? '';
    if (!isNonceCount(nc) || cnonce === '') {
      return { kind: 'malformed', reason: 'qop=auth needs nc (8 hex digits) and cnonce' };
    }
  } else if (alg.sess) {
    return { kind: 'malformed', reason: `${alg.algorithm}-sess needs qop and cnonce` };
  }
  return {
    kind: 'credentials',
    credentials: { username, realm, nonce, uri, response: response.toLowerCase(), algorithm: alg.algorithm, sess: alg.sess, qop, nc, cnonce },
  };
}

/** nc = 8LHEX (RFC 7616 §3.4; either case accepted). */
function isNonceCount(nc: string): boolean {
  if (nc.length !== 8) return false;
  for (let i = 0; i < 8; i++) {
    const c = nc.charCodeAt(i);
    const lower = c | 32;
    if (!((c >= 48 && c <= 57) || (lower >= 97 && lower <= 102))) return false;
  }
  return true;
}

export type VerifyOutcome =
  | { readonly kind: 'ok'; readonly account: AccountRecord }
  /** Right password, but the nonce is too old: challenge again with stale=true. */
  | { readonly kind: 'stale' }
  | {
      readonly kind: 'failed';
      readonly reason: 'wrong-password' | 'unknown-user' | 'disabled' | 'replay' | 'bad-nonce';
    };

// Used for unknown users so that they cost the same hashing as known ones.
const DUMMY_HA1: Record<DigestAlgorithm, string> = { MD5: '0'.repeat(32), 'SHA-256': '0'.repeat(64) };

function equalHex(a: string, b: string): boolean {
  return a.length === b.length && sameCharsAt(a, 0, b, 0, a.length);
}

/**
 * Verifies credentials for `method` against `account` (null when no account has that
 * username in this realm). Unknown, disabled and wrong-password outcomes do the same work
 * and the caller answers them identically; only the logged reason differs.
 */
export function verifyCredentials(
  c: DigestCredentials,
  account: AccountRecord | null,
  method: string,
  nonces: NonceService,
  nowMs: number,
): VerifyOutcome {
  const ha1 = account === null ? DUMMY_HA1[c.algorithm] : c.algorithm === 'MD5' ? account.ha1Md5 : account.ha1Sha256;
  const expected = computeDigestResponse({
    algorithm: c.algorithm,
    sess: c.sess,
    ha1,
    nonce: c.nonce,
    method,
    uri: c.uri,
    qop: c.qop,
    nc: c.nc,
    cnonce: c.cnonce,
  });
  const correct = equalHex(expected, c.response);
  // Without qop there is no nc: the nonce may then be used once.
  const nc = c.qop === null ? 1 : parseInt(c.nc, 16);
  const nonce = nonces.check(c.nonce, nc, nowMs, correct && account !== null && account.enabled);
  if (account === null) return { kind: 'failed', reason: 'unknown-user' };
  if (!correct) return { kind: 'failed', reason: 'wrong-password' };
  if (!account.enabled) return { kind: 'failed', reason: 'disabled' };
  switch (nonce) {
    case 'ok':
      return { kind: 'ok', account };
    case 'stale':
      return { kind: 'stale' };
    case 'replay':
      return { kind: 'failed', reason: 'replay' };
    case 'invalid':
      return { kind: 'failed', reason: 'bad-nonce' };
  }
}
