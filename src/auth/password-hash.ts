// Console user passwords, hashed with scrypt (memory-hard, in node:crypto, no native add-on)
// and stored as `scrypt$N$r$p$<salt>$<key>` so the cost can be raised later without
// breaking the hashes already stored: verification reads the parameters from the string.

import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const N = 16384;
const R = 8;
const P = 1;
const SALT_BYTES = 16;
const KEY_BYTES = 32;

// Limits on parameters read back from a stored string: a corrupt or hostile row must not make
// one login allocate gigabytes or spin for minutes.
const MAX_N = 1 << 20;
const MAX_R = 32;
const MAX_P = 16;
const MAX_MEMORY = 256 * 1024 * 1024;

function derive(password: string, salt: Buffer, keyBytes: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // NFC: the same password typed on two systems may arrive composed or decomposed.
    scrypt(password.normalize('NFC'), salt, keyBytes, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, KEY_BYTES, { N, r: R, p: P, maxmem: 2 * 128 * N * R });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Whether `password` matches a stored hash; false (never a throw) for a malformed one. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parseStored(stored);
  if (parsed === null) return false;
  const { n, r, p, salt, key } = parsed;
  try {
    const actual = await derive(password, salt, key.length, { N: n, r, p, maxmem: 2 * 128 * n * r });
    return timingSafeEqual(actual, key);
  } catch {
    return false;
  }
}

interface StoredHash {
  readonly n: number;
  readonly r: number;
  readonly p: number;
  readonly salt: Buffer;
  readonly key: Buffer;
}

const STORED = /^scrypt\$(\d{1,8})\$(\d{1,3})\$(\d{1,3})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

function parseStored(stored: unknown): StoredHash | null {
  if (typeof stored !== 'string') return null;
  const m = STORED.exec(stored);
  if (m === null) return null;
  const n = Number(m[1]);
  const r = Number(m[2]);
  const p = Number(m[3]);
  const powerOfTwo = n >= 2 && (n & (n - 1)) === 0;
  if (!powerOfTwo || n > MAX_N || r < 1 || r > MAX_R || p < 1 || p > MAX_P) return null;
  if (2 * 128 * n * r > MAX_MEMORY) return null;
  const salt = Buffer.from(m[4]!, 'base64');
  const key = Buffer.from(m[5]!, 'base64');
  if (salt.length < 8 || key.length < 16) return null;
  return { n, r, p, salt, key };
}

/**
 * A well-formed hash whose password nobody knows (random salt and key, made at load without
 * spending scrypt time): a login for an unknown user verifies against it, so it takes as
 * long as one for a known user and always fails.
 */
export const DUMMY_PASSWORD_HASH = `scrypt$${N}$${R}$${P}$${randomBytes(SALT_BYTES).toString('base64')}$${randomBytes(KEY_BYTES).toString('base64')}`;

let dummy: Promise<string> | null = null;

/** A real hash of a random string, computed once on first use; same purpose as DUMMY_PASSWORD_HASH. */
export function dummyPasswordHash(): Promise<string> {
  dummy ??= hashPassword(randomBytes(32).toString('base64'));
  return dummy;
}
