import { describe, expect, it } from 'vitest';
import { parseAddressPattern, type AddressPattern } from './address-pattern.js';

function pattern(input: string): AddressPattern {
  const p = parseAddressPattern(input);
  if (typeof p === 'string') throw new Error(`expected a pattern for ${input}, got: ${p}`);
  return p;
}

function message(input: string): string {
  return `"${input}" is not an IP address, a wildcard such as 192.168.1.x or a CIDR block such as 10.0.0.0/8`;
}

describe('parseAddressPattern: exact addresses', () => {
  it('an exact IPv4 address matches only itself and is its own prefix', () => {
    const p = pattern('192.0.2.7');
    expect(p.text).toBe('192.0.2.7');
    expect(p.prefix).toBe('192.0.2.7');
    expect(p.matches('192.0.2.7')).toBe(true);
    expect(p.matches('192.0.2.70')).toBe(false);
    expect(p.matches('192.0.2.8')).toBe(false);
    expect(p.matches('10.0.0.1')).toBe(false);
  });

  it('surrounding white space is dropped', () => {
    const p = pattern('  192.0.2.7\t');
    expect(p.text).toBe('192.0.2.7');
    expect(p.prefix).toBe('192.0.2.7');
    expect(p.matches('192.0.2.7')).toBe(true);
  });

  it('an exact IPv6 address matches every spelling of it and has no prefix', () => {
    const p = pattern('2001:DB8::1');
    expect(p.text).toBe('2001:db8::1');
    expect(p.prefix).toBeNull();
    expect(p.matches('2001:db8::1')).toBe(true);
    expect(p.matches('2001:0db8:0000:0000:0000:0000:0000:0001')).toBe(true);
    expect(p.matches('2001:DB8:0:0::1')).toBe(true);
    expect(p.matches('2001:db8::2')).toBe(false);
    expect(p.matches('192.0.2.1')).toBe(false);
    expect(p.matches('not-an-address')).toBe(false);
  });

  it('an IPv6 address in brackets is taken without them', () => {
    const p = pattern('[2001:db8::7]');
    expect(p.text).toBe('2001:db8::7');
    expect(p.prefix).toBeNull();
    expect(p.matches('2001:db8::7')).toBe(true);
    expect(p.matches('2001:db8::8')).toBe(false);
  });

  it('the unspecified IPv6 address is an exact address', () => {
    const p = pattern('::');
    expect(p.text).toBe('::');
    expect(p.matches('0:0:0:0:0:0:0:0')).toBe(true);
    expect(p.matches('::1')).toBe(false);
  });
});

describe('parseAddressPattern: wildcards', () => {
  it('192.168.1.x matches the last octet and has the prefix "192.168.1."', () => {
    const p = pattern('192.168.1.x');
    expect(p.text).toBe('192.168.1.x');
    expect(p.prefix).toBe('192.168.1.');
    expect(p.matches('192.168.1.0')).toBe(true);
    expect(p.matches('192.168.1.255')).toBe(true);
    expect(p.matches('192.168.10.1')).toBe(false);
    expect(p.matches('192.168.2.1')).toBe(false);
    expect(p.matches('10.192.168.1')).toBe(false);
  });

  it('10.x.x.x matches the whole 10/8 and has the prefix "10."', () => {
    const p = pattern('10.x.x.x');
    expect(p.prefix).toBe('10.');
    expect(p.matches('10.0.0.1')).toBe(true);
    expect(p.matches('10.255.255.255')).toBe(true);
    expect(p.matches('100.0.0.1')).toBe(false);
    expect(p.matches('110.0.0.1')).toBe(false);
  });

  it('* is a wildcard octet like x, and X is read as x', () => {
    const star = pattern('192.168.*.*');
    expect(star.text).toBe('192.168.*.*');
    expect(star.prefix).toBe('192.168.');
    expect(star.matches('192.168.44.3')).toBe(true);
    expect(star.matches('192.169.44.3')).toBe(false);

    const upper = pattern('192.168.1.X');
    expect(upper.text).toBe('192.168.1.x');
    expect(upper.prefix).toBe('192.168.1.');
    expect(upper.matches('192.168.1.9')).toBe(true);
  });

  it('x.x.x.x and *.*.*.* match any IPv4 address (empty prefix) and no IPv6 address', () => {
    for (const text of ['x.x.x.x', '*.*.*.*', 'x.*.x.*']) {
      const p = pattern(text);
      expect(p.prefix).toBe('');
      expect(p.matches('1.2.3.4')).toBe(true);
      expect(p.matches('255.255.255.255')).toBe(true);
      expect(p.matches('2001:db8::1')).toBe(false);
      expect(p.matches('garbage')).toBe(false);
    }
  });

  it('a trailing wildcard matches only real IPv4 addresses that start with the prefix', () => {
    const p = pattern('192.168.1.x');
    expect(p.matches('192.168.1.')).toBe(false);
    expect(p.matches('192.168.1.256')).toBe(false);
    expect(p.matches('192.168.1.1.1')).toBe(false);
    expect(p.matches('192.168.1.host')).toBe(false);
  });

  it('octets with leading zeros are read as numbers in the prefix', () => {
    const p = pattern('192.168.001.x');
    expect(p.prefix).toBe('192.168.1.');
    expect(p.matches('192.168.1.20')).toBe(true);
  });

  it('a non-trailing wildcard (192.x.1.5) matches octet by octet and has no prefix', () => {
    const p = pattern('192.x.1.5');
    expect(p.text).toBe('192.x.1.5');
    expect(p.prefix).toBeNull();
    expect(p.matches('192.0.1.5')).toBe(true);
    expect(p.matches('192.255.1.5')).toBe(true);
    expect(p.matches('192.0.1.50')).toBe(false);
    expect(p.matches('192.0.2.5')).toBe(false);
    expect(p.matches('193.0.1.5')).toBe(false);
    expect(p.matches('192.0.1')).toBe(false);
    expect(p.matches('192.a.1.5')).toBe(false);
    expect(p.matches('2001:db8::1')).toBe(false);
  });

  it('a leading wildcard (x.168.1.5) and one in the middle (10.x.0.x) match octet by octet', () => {
    const lead = pattern('x.168.1.5');
    expect(lead.prefix).toBeNull();
    expect(lead.matches('192.168.1.5')).toBe(true);
    expect(lead.matches('10.168.1.5')).toBe(true);
    expect(lead.matches('10.168.1.6')).toBe(false);

    const mixed = pattern('10.x.0.x');
    expect(mixed.prefix).toBeNull();
    expect(mixed.matches('10.7.0.200')).toBe(true);
    expect(mixed.matches('10.7.1.200')).toBe(false);
  });
});

describe('parseAddressPattern: CIDR blocks', () => {
  it('10.0.0.0/8 matches the block and nothing outside it; no prefix', () => {
    const p = pattern('10.0.0.0/8');
    expect(p.text).toBe('10.0.0.0/8');
    expect(p.prefix).toBeNull();
    expect(p.matches('10.0.0.0')).toBe(true);
    expect(p.matches('10.255.255.255')).toBe(true);
    expect(p.matches('11.0.0.0')).toBe(false);
    expect(p.matches('9.255.255.255')).toBe(false);
    expect(p.matches('2001:db8::1')).toBe(false);
    expect(p.matches('garbage')).toBe(false);
  });

  it('a /32 is one address and a /0 is every IPv4 address', () => {
    const one = pattern('192.0.2.7/32');
    expect(one.matches('192.0.2.7')).toBe(true);
    expect(one.matches('192.0.2.6')).toBe(false);

    const all = pattern('0.0.0.0/0');
    expect(all.matches('1.2.3.4')).toBe(true);
    expect(all.matches('255.255.255.255')).toBe(true);
  });

  it('an odd IPv4 prefix length (172.16.0.0/12) ends at the right address', () => {
    const p = pattern('172.16.0.0/12');
    expect(p.matches('172.16.0.1')).toBe(true);
    expect(p.matches('172.31.255.255')).toBe(true);
    expect(p.matches('172.32.0.0')).toBe(false);
    expect(p.matches('172.15.255.255')).toBe(false);
  });

  it('a block written with host bits set (10.1.2.3/8) means the whole block', () => {
    const p = pattern('10.1.2.3/8');
    expect(p.matches('10.200.0.1')).toBe(true);
    expect(p.matches('11.1.2.3')).toBe(false);
  });

  it('2001:db8::/32 matches IPv6 addresses in the block only', () => {
    const p = pattern('2001:DB8::/32');
    expect(p.text).toBe('2001:db8::/32');
    expect(p.prefix).toBeNull();
    expect(p.matches('2001:db8::1')).toBe(true);
    expect(p.matches('2001:db8:ffff:ffff::1')).toBe(true);
    expect(p.matches('2001:db9::1')).toBe(false);
    expect(p.matches('10.0.0.1')).toBe(false);
  });

  it('an IPv6 /128 is one address', () => {
    const p = pattern('2001:db8::1/128');
    expect(p.matches('2001:db8:0::1')).toBe(true);
    expect(p.matches('2001:db8::2')).toBe(false);
  });
});

describe('parseAddressPattern: invalid input', () => {
  it.each([
    [''],
    ['   '],
    ['example.com'],
    ['1.2.3'],
    ['1.2.3.4.5'],
    ['192.168.1.256'],
    ['192.168.256.x'],
    ['192.168.1.y'],
    ['192.168.1.xx'],
    ['192.168.1.1x'],
    ['192.168.1'],
    ['10.0.0.0/'],
    ['10.0.0.0/33'],
    ['10.0.0.0/-1'],
    ['10.0.0.0/8/8'],
    ['10.0.0.0/8.5'],
    ['10.0.0.0/ 8'],
    ['10.x.0.0/8'],
    ['example.com/8'],
    ['/8'],
    ['2001:db8::/129'],
    ['[2001:db8::]/32'],
    ['2001:db8::x'],
    ['[10.0.0.1'],
  ])('%j gives a message saying what is accepted', (input) => {
    expect(parseAddressPattern(input)).toBe(message(input));
  });

  it('the message quotes the input as the operator gave it', () => {
    expect(parseAddressPattern(' Nope ')).toBe('" Nope " is not an IP address, a wildcard such as 192.168.1.x or a CIDR block such as 10.0.0.0/8');
  });
});
