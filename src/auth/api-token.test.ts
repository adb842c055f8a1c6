import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashApiToken, newApiToken } from './api-token.js';

describe('API tokens', () => {
  it('are rc_ and 32 random bytes in base64url, with the SHA-256 hex of the whole token', () => {
    const { token, hash } = newApiToken();
    expect(token).toMatch(/^rc_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token.slice(3), 'base64url')).toHaveLength(32);
    expect(hash).toBe(createHash('sha256').update(token).digest('hex'));
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('hash the same token to the same value every time', () => {
    const { token, hash } = newApiToken();
    expect(hashApiToken(token)).toBe(hash);
    expect(hashApiToken(token)).toBe(hashApiToken(token));
    expect(hashApiToken('rc_abc')).toBe('99672ac7fb68cad9884142e110aec739798147f3ab3c81cd092cf36a75eb7686');
  });

  it('are different every time', () => {
    const tokens = new Set(Array.from({ length: 100 }, () => newApiToken().token));
    expect(tokens.size).toBe(100);
  });
});
