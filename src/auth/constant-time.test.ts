import { describe, expect, it } from 'vitest';
import { sameCharsAt } from './constant-time.js';

describe('sameCharsAt', () => {
  it('compares the given ranges only', () => {
    expect(sameCharsAt('abcdef', 2, 'xxcdyy', 2, 2)).toBe(true);
    expect(sameCharsAt('abcdef', 0, 'zzabcdef', 2, 6)).toBe(true);
    expect(sameCharsAt('abcdef', 0, 'abcdeF', 0, 6)).toBe(false);
    expect(sameCharsAt('Xbcdef', 0, 'abcdef', 0, 6)).toBe(false);
  });
});
