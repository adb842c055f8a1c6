// API tokens for scripts: `rc_` and 32 random bytes. The prefix makes a leaked token easy to
// recognise (and to grep for); only the SHA-256 of the whole token is stored, so a copy of
// the database does not let anyone in. A fast hash is enough: the token is random, not a
// password someone chose, so there is nothing to guess.

import { createHash, randomBytes } from 'node:crypto';

export const API_TOKEN_PREFIX = 'rc_';

export function newApiToken(): { token: string; hash: string } {
  const token = API_TOKEN_PREFIX + randomBytes(32).toString('base64url');
  return { token, hash: hashApiToken(token) };
}

/** SHA-256 hex of the token as presented; what TokenStore keys on. */
export function hashApiToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
