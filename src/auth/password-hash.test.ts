import { describe, expect, it } from 'vitest';
import { DUMMY_PASSWORD_HASH, dummyPasswordHash, hashPassword, verifyPassword } from './password-hash.js';

describe('console password hashes', () => {
  it('stores scrypt N=16384 r=8 p=1 with a 16-byte salt and a 32-byte key', async () => {
    const stored = await hashPassword('correct horse battery');
    const m = /^scrypt\$16384\$8\$1\$([^$]+)\$([^$]+)$/.exec(stored);
    expect(m).not.toBeNull();
    expect(Buffer.from(m![1]!, 'base64')).toHaveLength(16);
    expect(Buffer.from(m![2]!, 'base64')).toHaveLength(32);
    expect(stored).not.toContain('correct horse');
  });

  it('verifies the right password and refuses a wrong one', async () => {
    const stored = await hashPassword('correct horse battery');
    expect(await verifyPassword('correct horse battery', stored)).toBe(true);
    expect(await verifyPassword('correct horse batterY', stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
  });

  it('gives two different hashes for one password (random salt)', async () => {
    const a = await hashPassword('same password');
    const b = await hashPassword('same password');
    expect(a).not.toBe(b);
    expect(await verifyPassword('same password', a)).toBe(true);
    expect(await verifyPassword('same password', b)).toBe(true);
  });

  it('treats composed and decomposed Unicode as the same password', async () => {
    const stored = await hashPassword('caf\u00e9-password');
    expect(await verifyPassword('cafe\u0301-password', stored)).toBe(true);
  });

  it('returns false, never throws, for a malformed stored hash', async () => {
    const good = await hashPassword('pw');
    const [, , , , salt, key] = good.split('$');
    const malformed = [
      '',
      'pw',
      'scrypt$',
      `bcrypt$16384$8$1$${salt}$${key}`,
      `scrypt$16384$8$1$${salt}`,
      `scrypt$16384$8$1$${salt}$${key}$extra`,
      `scrypt$1000$8$1$${salt}$${key}`, // N not a power of two
      `scrypt$0$8$1$${salt}$${key}`,
      `scrypt$16384$0$1$${salt}$${key}`,
      `scrypt$16384$8$0$${salt}$${key}`,
      `scrypt$67108864$8$1$${salt}$${key}`, // would need 64 GiB
      `scrypt$16384$8$1$${salt}$!!notbase64!!`,
      `scrypt$16384$8$1$${salt}$AAAA`, // key too short
      `scrypt$16384$8$1$$${key}`,
    ];
    for (const stored of malformed) expect(await verifyPassword('pw', stored), stored).toBe(false);
    expect(await verifyPassword('pw', undefined as unknown as string)).toBe(false);
  });

  it('offers dummy hashes that are well-formed and match nothing', async () => {
    expect(DUMMY_PASSWORD_HASH).toMatch(/^scrypt\$16384\$8\$1\$[^$]+\$[^$]+$/);
    expect(await verifyPassword('', DUMMY_PASSWORD_HASH)).toBe(false);
    const dummy = await dummyPasswordHash();
    expect(dummy).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(await dummyPasswordHash()).toBe(dummy);
    expect(await verifyPassword('admin', dummy)).toBe(false);
  });

  it('spends about as long on the dummy hash as on a real one (no shortcut for unknown users)', async () => {
    const real = await hashPassword('a real password');
    const time = async (stored: string) => {
      const start = process.hrtime.bigint();
      for (let i = 0; i < 3; i++) await verifyPassword('guess', stored);
      return Number(process.hrtime.bigint() - start);
    };
    await time(real); // warm up
    const realNs = await time(real);
    const dummyNs = await time(DUMMY_PASSWORD_HASH);
    expect(dummyNs).toBeGreaterThan(realNs / 5);
  });
});
