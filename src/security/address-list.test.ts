import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { AddressList, AddressListError, parseCidr, type AddressListEntry, type CidrBlock } from './address-list.js';

function list(...cidrs: string[]): AddressList<string> {
  return AddressList.build(cidrs.map((cidr) => ({ cidr, value: cidr })));
}

/** The value of the entry covering each address (null: none). */
function values(l: AddressList<string>, addresses: string[]): (string | null)[] {
  return addresses.map((a) => l.lookup(a)?.value ?? null);
}

function block(text: string): CidrBlock {
  const b = parseCidr(text);
  if (typeof b === 'string') throw new Error(`expected a block for ${text}, got: ${b}`);
  return b;
}

function buildError(entries: AddressListEntry<null>[]): AddressListError {
  try {
    AddressList.build(entries);
  } catch (e) {
    if (e instanceof AddressListError) return e;
    throw e;
  }
  throw new Error('expected AddressListError');
}

/** A small deterministic PRNG (mulberry32), so a failing property run can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('AddressList: IPv4', () => {
  it('a bare address is a /32 matching only itself', () => {
    const l = list('192.0.2.7');
    expect(values(l, ['192.0.2.7', '192.0.2.6', '192.0.2.8', '192.0.2.70'])).toEqual(['192.0.2.7', null, null, null]);
    expect(l.has('192.0.2.7')).toBe(true);
    expect(l.has('192.0.2.8')).toBe(false);
  });

  it('returns the entry object it was given', () => {
    const entry = { cidr: '198.51.100.0/24', value: { customer: 'acme' } };
    const l = AddressList.build([entry]);
    expect(l.lookup('198.51.100.200')).toBe(entry);
  });

  it('a block covers its first and last address and nothing either side', () => {
    const l = list('198.51.100.0/24');
    expect(values(l, ['198.51.99.255', '198.51.100.0', '198.51.100.128', '198.51.100.255', '198.51.101.0'])).toEqual([
      null,
      '198.51.100.0/24',
      '198.51.100.0/24',
      '198.51.100.0/24',
      null,
    ]);
  });

  it('nested blocks: the most specific entry wins, whatever the order given', () => {
    for (const l of [list('10.0.0.0/8', '10.1.0.0/16'), list('10.1.0.0/16', '10.0.0.0/8')]) {
      expect(values(l, ['9.255.255.255', '10.0.0.0', '10.0.255.255', '10.1.0.0', '10.1.77.3', '10.1.255.255', '10.2.0.0', '10.255.255.255', '11.0.0.0'])).toEqual([
        null,
        '10.0.0.0/8',
        '10.0.0.0/8',
        '10.1.0.0/16',
        '10.1.0.0/16',
        '10.1.0.0/16',
        '10.0.0.0/8',
        '10.0.0.0/8',
        null,
      ]);
    }
  });

  it('nested blocks sharing a first or a last address', () => {
    const l = list('10.0.0.0/8', '10.0.0.0/16', '10.0.0.0/32', '10.255.0.0/16', '10.255.255.255/32');
    expect(values(l, ['10.0.0.0', '10.0.0.1', '10.0.255.255', '10.1.0.0', '10.254.255.255', '10.255.0.0', '10.255.255.254', '10.255.255.255', '11.0.0.0'])).toEqual([
      '10.0.0.0/32',
      '10.0.0.0/16',
      '10.0.0.0/16',
      '10.0.0.0/8',
      '10.0.0.0/8',
      '10.255.0.0/16',
      '10.255.0.0/16',
      '10.255.255.255/32',
      null,
    ]);
  });

  it('adjacent blocks each keep their own entry', () => {
    const l = list('192.0.2.0/25', '192.0.2.128/25', '192.0.3.0/24');
    expect(values(l, ['192.0.1.255', '192.0.2.0', '192.0.2.127', '192.0.2.128', '192.0.2.255', '192.0.3.0', '192.0.3.255', '192.0.4.0'])).toEqual([
      null,
      '192.0.2.0/25',
      '192.0.2.0/25',
      '192.0.2.128/25',
      '192.0.2.128/25',
      '192.0.3.0/24',
      '192.0.3.0/24',
      null,
    ]);
  });

  it('/0 covers every IPv4 address, and more specific entries inside it still win', () => {
    const l = list('0.0.0.0/0', '203.0.113.0/24');
    expect(values(l, ['0.0.0.0', '1.2.3.4', '203.0.113.9', '255.255.255.255'])).toEqual(['0.0.0.0/0', '0.0.0.0/0', '203.0.113.0/24', '0.0.0.0/0']);
    expect(l.has('2001:db8::1')).toBe(false);
  });

  it('/32 entries at both ends of the address space', () => {
    const l = list('0.0.0.0/32', '255.255.255.255/32');
    expect(values(l, ['0.0.0.0', '0.0.0.1', '255.255.255.254', '255.255.255.255'])).toEqual(['0.0.0.0/32', null, null, '255.255.255.255/32']);
  });

  it('host bits below the prefix are ignored (192.168.1.7/24 is 192.168.1.0/24)', () => {
    const l = list('192.168.1.7/24');
    expect(values(l, ['192.168.1.0', '192.168.1.255', '192.168.2.0'])).toEqual(['192.168.1.7/24', '192.168.1.7/24', null]);
  });

  it('the same block listed twice: the later entry wins; both count in size', () => {
    const l = AddressList.build([
      { cidr: '10.0.0.0/8', value: 'first' },
      { cidr: '10.0.0.0/8', value: 'second' },
      { cidr: '10.0.0.0/8', value: 'third' },
    ]);
    expect(l.lookup('10.9.9.9')?.value).toBe('third');
    expect(l.size).toBe(3);
  });

  it('a duplicate inside a wider block ends where it ends', () => {
    const l = AddressList.build([
      { cidr: '10.0.0.0/8', value: 'wide' },
      { cidr: '10.1.0.0/16', value: 'a' },
      { cidr: '10.1.0.0/16', value: 'b' },
    ]);
    expect(values(l, ['10.0.255.255', '10.1.0.0', '10.1.255.255', '10.2.0.0'])).toEqual(['wide', 'b', 'b', 'wide']);
  });

  it('a long list (indexed by /16) agrees at /16 edges', () => {
    // 1,024 single hosts under a /8: well past the size that gets the /16 index.
    const cidrs = ['10.0.0.0/8', '10.200.255.255/32', '11.0.0.0/32', '255.255.255.255/32'];
    for (let a = 0; a < 4; a++) for (let b = 0; b < 256; b++) cidrs.push(`10.${a}.${b}.0/32`);
    const l = list(...cidrs);
    for (let a = 0; a < 4; a++) {
      for (let b = 0; b < 256; b++) {
        expect(l.lookup(`10.${a}.${b}.0`)?.value).toBe(`10.${a}.${b}.0/32`);
        expect(l.lookup(`10.${a}.${b}.1`)?.value).toBe('10.0.0.0/8');
      }
    }
    expect(values(l, ['9.255.255.255', '10.3.255.255', '10.4.0.0', '10.200.255.254', '10.200.255.255', '10.201.0.0', '10.255.255.255', '11.0.0.0', '11.0.0.1', '255.255.255.254', '255.255.255.255'])).toEqual([
      null,
      '10.0.0.0/8',
      '10.0.0.0/8',
      '10.0.0.0/8',
      '10.200.255.255/32',
      '10.0.0.0/8',
      '10.0.0.0/8',
      '11.0.0.0/32',
      null,
      null,
      '255.255.255.255/32',
    ]);
  });

  it('an empty list covers nothing', () => {
    const l = AddressList.build<string>([]);
    expect(l.size).toBe(0);
    expect(l.lookup('10.0.0.1')).toBeNull();
    expect(l.lookup('2001:db8::1')).toBeNull();
    expect(l.lookup('::ffff:10.0.0.1')).toBeNull();
  });

  it('accepts any iterable of entries', () => {
    function* entries(): Generator<AddressListEntry<number>> {
      yield { cidr: '10.0.0.0/8', value: 1 };
      yield { cidr: '2001:db8::/32', value: 2 };
    }
    const l = AddressList.build(entries());
    expect(l.size).toBe(2);
    expect(l.lookup('10.1.1.1')?.value).toBe(1);
    expect(l.lookup('2001:db8::9')?.value).toBe(2);
    expect(AddressList.build(new Set([{ cidr: '10.0.0.0/8', value: 'x' }])).has('10.0.0.1')).toBe(true);
  });

  it('entries may carry white space around them', () => {
    const l = list('  10.0.0.0/8\t', ' 2001:db8::/32 ');
    expect(l.has('10.1.2.3')).toBe(true);
    expect(l.has('2001:db8::1')).toBe(true);
  });
});

describe('AddressList: IPv6', () => {
  it('matches every spelling of an address: compressed, full, upper case, leading zeros', () => {
    const l = list('2001:db8::1');
    for (const a of ['2001:db8::1', '2001:0db8:0000:0000:0000:0000:0000:0001', '2001:DB8::1', '2001:db8:0:0:0::1', '2001:db8::0:1', '2001:0DB8::0001']) {
      expect(l.lookup(a)?.value, a).toBe('2001:db8::1');
    }
    expect(values(l, ['2001:db8::2', '2001:db8::', '2001:db8:1::1'])).toEqual([null, null, null]);
  });

  it('nested and adjacent IPv6 blocks', () => {
    const l = list('2001:db8::/32', '2001:db8:1::/48', '2001:db8:1:2::/64', '2001:db8:2::/48');
    expect(
      values(l, [
        '2001:db7:ffff:ffff:ffff:ffff:ffff:ffff',
        '2001:db8::',
        '2001:db8:0:ffff::1',
        '2001:db8:1::',
        '2001:db8:1:1:ffff:ffff:ffff:ffff',
        '2001:db8:1:2::',
        '2001:db8:1:2:ffff:ffff:ffff:ffff',
        '2001:db8:1:3::',
        '2001:db8:2::',
        '2001:db8:2:ffff:ffff:ffff:ffff:ffff',
        '2001:db8:3::',
        '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff',
        '2001:db9::',
      ]),
    ).toEqual([
      null,
      '2001:db8::/32',
      '2001:db8::/32',
      '2001:db8:1::/48',
      '2001:db8:1::/48',
      '2001:db8:1:2::/64',
      '2001:db8:1:2::/64',
      '2001:db8:1::/48',
      '2001:db8:2::/48',
      '2001:db8:2::/48',
      '2001:db8::/32',
      '2001:db8::/32',
      null,
    ]);
  });

  it('::/0, ::/128 and the last address', () => {
    const l = list('::/0', '::/128', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128', 'fe80::/10');
    expect(values(l, ['::', '::1', '2001:db8::1', 'fe80::1', 'febf:ffff::', 'fec0::', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'])).toEqual([
      '::/128',
      '::/0',
      '::/0',
      'fe80::/10',
      'fe80::/10',
      '::/0',
      '::/0',
      'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128',
    ]);
    expect(l.has('10.0.0.1')).toBe(false);
  });

  it('compressed forms at the start, the middle and the end; a "::" standing for one group', () => {
    const l = list('1:0:0:0:0:0:0:0/128', '0:0:0:0:0:0:0:1/128', '1:2:0:0:0:0:7:8/128', '1:0:3:4:5:6:7:8/128', '1:2:3:4:5:6:7:0/128');
    expect(values(l, ['1::', '::1', '1:2::7:8', '1::3:4:5:6:7:8', '1:2:3:4:5:6:7::'])).toEqual([
      '1:0:0:0:0:0:0:0/128',
      '0:0:0:0:0:0:0:1/128',
      '1:2:0:0:0:0:7:8/128',
      '1:0:3:4:5:6:7:8/128',
      '1:2:3:4:5:6:7:0/128',
    ]);
  });

  it('a zone in a link-local source address is ignored', () => {
    const l = list('fe80::/10');
    expect(l.has('fe80::1%eth0')).toBe(true);
    expect(l.has('fe80::1%')).toBe(false);
  });

  it('an embedded dotted quad outside the mapped range is an IPv6 address', () => {
    const l = list('64:ff9b::/96', '10.0.0.0/8');
    expect(values(l, ['64:ff9b::10.1.2.3', '64:ff9b::a01:203', '::10.1.2.3'])).toEqual(['64:ff9b::/96', '64:ff9b::/96', null]);
  });
});

describe('AddressList: IPv4-mapped IPv6 addresses', () => {
  it('::ffff:a.b.c.d matches IPv4 entries (a dual-stack socket reports IPv4 sources so)', () => {
    const l = list('10.0.0.0/8', '10.1.0.0/16', '2001:db8::/32');
    expect(values(l, ['::ffff:10.1.2.3', '::FFFF:10.2.0.1', '::ffff:a01:203', '0:0:0:0:0:ffff:10.1.2.3', '::ffff:11.0.0.1'])).toEqual([
      '10.1.0.0/16',
      '10.0.0.0/8',
      '10.1.0.0/16',
      '10.1.0.0/16',
      null,
    ]);
  });

  it('a mapped IPv6 block is the IPv4 block it maps', () => {
    const l = list('::ffff:192.0.2.0/120', '::ffff:0:0/96');
    expect(values(l, ['192.0.2.77', '::ffff:192.0.2.77', '8.8.8.8'])).toEqual(['::ffff:192.0.2.0/120', '::ffff:192.0.2.0/120', '::ffff:0:0/96']);
    expect(l.has('2001:db8::1')).toBe(false);
  });

  it('an IPv6 block wider than /96 does not cover IPv4 sources', () => {
    expect(list('::/0').has('::ffff:10.0.0.1')).toBe(false);
    expect(list('::/0').has('10.0.0.1')).toBe(false);
  });
});

describe('AddressList: what is not an address', () => {
  const everything = list('0.0.0.0/0', '::/0');

  it.each([
    '',
    'x',
    'localhost',
    '1.2.3',
    '1.2.3.4.5',
    '256.1.1.1',
    '1.2.3.256',
    '01.2.3.4',
    '1..2.3',
    '.1.2.3',
    '1.2.3.',
    ' 1.2.3.4',
    '1.2.3.4 ',
    '1.2.3.4/32',
    '1.2.3.4:5060',
    '[::1]',
    ':',
    ':::',
    ':1::',
    '1:',
    '1::2::3',
    '12345::',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8::',
    '1:2:3:4:5:6:7:1.2.3.4',
    '::ffff:1.2.3',
    '::ffff:1.2.3.04',
    '::1.2.3.4:5',
    'g::1',
    '%eth0',
    'fe80::1%',
  ])('%j: lookup gives null', (a) => {
    expect(everything.lookup(a)).toBeNull();
    expect(everything.has(a)).toBe(false);
  });

  it('agrees with net.isIP on which random strings are addresses', () => {
    const next = random(7);
    // Pieces of addresses, so that a fair share of the strings are addresses.
    const pieces = ['0', '1', '9', '10', 'ff', 'FfFf', 'abcd', '12345', '255', '256', '01', ':', '::', '.', '1.2.3.4', '%eth0', '%', ' ', 'g'];
    let addresses = 0;
    for (let i = 0; i < 20_000; i++) {
      const length = 1 + Math.floor(next() * 12);
      let s = '';
      for (let k = 0; k < length; k++) s += pieces[Math.floor(next() * pieces.length)];
      const expected = isIP(s) !== 0;
      if (expected) addresses++;
      expect(everything.has(s), s).toBe(expected);
    }
    expect(addresses).toBeGreaterThan(400);
  });

  it('agrees with net.isIP on random spellings of IPv6 addresses', () => {
    const next = random(11);
    for (let i = 0; i < 5_000; i++) {
      const g = Array.from({ length: 8 }, () => (next() < 0.4 ? 0 : Math.floor(next() * 0x10000)));
      let s = spell(g, next);
      if (next() < 0.2) {
        // Damage it: drop, double or add a character.
        const at = Math.floor(next() * s.length);
        const op = Math.floor(next() * 3);
        s = op === 0 ? s.slice(0, at) + s.slice(at + 1) : op === 1 ? s.slice(0, at) + s[at] + s.slice(at) : `${s.slice(0, at)}:${s.slice(at)}`;
      }
      expect(everything.has(s), s).toBe(isIP(s) !== 0);
    }
  });
});

describe('AddressList.build: bad entries', () => {
  it.each([
    ['10.0.0.0/33', '"10.0.0.0/33" is not a CIDR block: an IPv4 prefix length is 0 to 32'],
    ['2001:db8::/129', '"2001:db8::/129" is not a CIDR block: an IPv6 prefix length is 0 to 128'],
    ['10.0.0.0/', '"10.0.0.0/" is not a CIDR block: the prefix length after "/" must be a number (0 to 32 for IPv4, 0 to 128 for IPv6)'],
    ['10.0.0.0/-1', '"10.0.0.0/-1" is not a CIDR block: the prefix length after "/" must be a number (0 to 32 for IPv4, 0 to 128 for IPv6)'],
    ['10.0.0.0/8/8', '"10.0.0.0/8/8" is not a CIDR block: the prefix length after "/" must be a number (0 to 32 for IPv4, 0 to 128 for IPv6)'],
    ['10.0.0/8', '"10.0.0/8" is not a CIDR block: "10.0.0" is not an IPv4 or IPv6 address'],
    ['300.1.1.1', '"300.1.1.1" is not a CIDR block: "300.1.1.1" is not an IPv4 or IPv6 address'],
    ['10.x.x.x', '"10.x.x.x" is not a CIDR block: "10.x.x.x" is not an IPv4 or IPv6 address'],
    ['example.com', '"example.com" is not a CIDR block: "example.com" is not an IPv4 or IPv6 address'],
    ['fe80::1%eth0/64', '"fe80::1%eth0/64" is not a CIDR block: "fe80::1%eth0" is not an IPv4 or IPv6 address'],
    ['[2001:db8::]/32', '"[2001:db8::]/32" is not a CIDR block: "[2001:db8::]" is not an IPv4 or IPv6 address'],
    ['', '"" is not a CIDR block: give an address such as 192.0.2.1 or a block such as 10.0.0.0/8 or 2001:db8::/32'],
    ['   ', '"   " is not a CIDR block: give an address such as 192.0.2.1 or a block such as 10.0.0.0/8 or 2001:db8::/32'],
  ])('%j', (cidr, message) => {
    expect(parseCidr(cidr)).toBe(message);
    const e = buildError([{ cidr: '10.0.0.0/8', value: null }, { cidr, value: null }]);
    expect(e.message).toBe(message);
    expect(e.cidr).toBe(cidr);
    expect(e.index).toBe(1);
    expect(e.name).toBe('AddressListError');
  });

  it('names the first bad entry of several', () => {
    const e = buildError([
      { cidr: '10.0.0.0/8', value: null },
      { cidr: '10.0.0.0/40', value: null },
      { cidr: 'nonsense', value: null },
    ]);
    expect(e.message).toBe('"10.0.0.0/40" is not a CIDR block: an IPv4 prefix length is 0 to 32');
    expect(e.index).toBe(1);
  });
});

describe('parseCidr', () => {
  it('gives family, first and last address, prefix and the canonical text', () => {
    expect(parseCidr('10.0.0.0/8')).toEqual({ family: 4, first: 0x0a000000, last: 0x0affffff, prefix: 8, text: '10.0.0.0/8' });
    expect(parseCidr('192.0.2.1')).toEqual({ family: 4, first: 0xc0000201, last: 0xc0000201, prefix: 32, text: '192.0.2.1/32' });
    expect(parseCidr('0.0.0.0/0')).toEqual({ family: 4, first: 0, last: 0xffffffff, prefix: 0, text: '0.0.0.0/0' });
    expect(parseCidr('192.168.1.77/24')).toEqual({ family: 4, first: 0xc0a80100, last: 0xc0a801ff, prefix: 24, text: '192.168.1.0/24' });
    expect(parseCidr('2001:DB8::/32')).toEqual({
      family: 6,
      first: 0x20010db8n << 96n,
      last: (0x20010db8n << 96n) | ((1n << 96n) - 1n),
      prefix: 32,
      text: '2001:db8::/32',
    });
    expect(parseCidr('::')).toEqual({ family: 6, first: 0n, last: 0n, prefix: 128, text: '::/128' });
  });

  it('IPv6 text follows RFC 5952 (longest zero run compressed, the first of equals; no single-group "::")', () => {
    expect(block('2001:0db8:0000:0000:0001:0000:0000:0001').text).toBe('2001:db8::1:0:0:1/128');
    expect(block('2001:db8:0:0:1:0:0:0').text).toBe('2001:db8:0:0:1::/128');
    expect(block('2001:db8:0:1:1:1:1:1').text).toBe('2001:db8:0:1:1:1:1:1/128');
    expect(block('2001:db8::1:2:3:4:5').text).toBe('2001:db8:0:1:2:3:4:5/128');
    expect(block('fe80::1234/10').text).toBe('fe80::/10');
    expect(block('::1').text).toBe('::1/128');
    expect(block('1::').text).toBe('1::/128');
  });

  it('an IPv4-mapped block of /96 or longer is the IPv4 block', () => {
    expect(parseCidr('::ffff:10.0.0.0/104')).toEqual({ family: 4, first: 0x0a000000, last: 0x0affffff, prefix: 8, text: '10.0.0.0/8' });
    expect(block('::ffff:0:0/96').text).toBe('0.0.0.0/0');
    expect(block('::ffff:c000:201').text).toBe('192.0.2.1/32');
    expect(block('::ffff:0:0/95')).toMatchObject({ family: 6, text: '::fffe:0:0/95' });
  });
});

describe('AddressList: against a linear scan', () => {
  interface Naive {
    readonly block: CidrBlock;
    readonly index: number;
  }

  /** The reference answer: the longest prefix covering it, the later entry among equals. */
  function scan(blocks: Naive[], family: 4 | 6, value: number | bigint): number | null {
    let best: Naive | null = null;
    for (const b of blocks) {
      if (b.block.family !== family || value < b.block.first || value > b.block.last) continue;
      if (best === null || b.block.prefix >= best.block.prefix) best = b;
    }
    return best?.index ?? null;
  }

  it('IPv4: 2,000 random nested and overlapping blocks, 20,000 addresses (some in mapped form)', () => {
    const next = random(42);
    const entries: AddressListEntry<number>[] = [];
    const naive: Naive[] = [];
    // A few crowded /8s so that blocks nest and touch; some anywhere.
    const eights = [10, 172, 192, 203];
    for (let i = 0; i < 2_000; i++) {
      const prefix = next() < 0.02 ? Math.floor(next() * 8) : 8 + Math.floor(next() * 25);
      const base = next() < 0.9 ? ((eights[Math.floor(next() * eights.length)]! << 24) | Math.floor(next() * 0x1000000)) >>> 0 : Math.floor(next() * 2 ** 32);
      const cidr = `${v4Text(base)}/${prefix}`;
      entries.push({ cidr, value: i });
      naive.push({ block: block(cidr), index: i });
    }
    const l = AddressList.build(entries);
    for (let i = 0; i < 20_000; i++) {
      let value: number;
      const pick = next();
      if (pick < 0.5) {
        // On or beside a block boundary, where off-by-one errors live.
        const b = naive[Math.floor(next() * naive.length)]!.block as Extract<CidrBlock, { family: 4 }>;
        const edges = [b.first, b.last, b.first - 1, b.last + 1];
        value = edges[Math.floor(next() * edges.length)]!;
        if (value < 0 || value > 0xffffffff) value = b.first;
      } else if (pick < 0.9) {
        value = ((eights[Math.floor(next() * eights.length)]! << 24) | Math.floor(next() * 0x1000000)) >>> 0;
      } else {
        value = Math.floor(next() * 2 ** 32);
      }
      const text = next() < 0.1 ? `::ffff:${v4Text(value)}` : v4Text(value);
      const expected = scan(naive, 4, value);
      expect(l.lookup(text)?.value ?? null, text).toBe(expected);
    }
  });

  it('IPv6: 2,000 random nested and overlapping blocks, 20,000 addresses in random spellings', () => {
    const next = random(4242);
    const entries: AddressListEntry<number>[] = [];
    const naive: Naive[] = [];
    const tops = [0x20010db8n, 0x2a000000n, 0xfe800000n];
    const randomValue = (): bigint => {
      let v = tops[Math.floor(next() * tops.length)]!;
      for (let k = 0; k < 3; k++) v = (v << 32n) | BigInt(next() < 0.3 ? 0 : Math.floor(next() * 2 ** 32));
      return v;
    };
    for (let i = 0; i < 2_000; i++) {
      const prefix = next() < 0.02 ? Math.floor(next() * 32) : 32 + Math.floor(next() * 97);
      const cidr = `${spell(groupsOf(randomValue()), next)}/${prefix}`;
      entries.push({ cidr, value: i });
      naive.push({ block: block(cidr), index: i });
    }
    const l = AddressList.build(entries);
    const max = (1n << 128n) - 1n;
    for (let i = 0; i < 20_000; i++) {
      let value: bigint;
      if (next() < 0.5) {
        const b = naive[Math.floor(next() * naive.length)]!.block as Extract<CidrBlock, { family: 6 }>;
        const edges = [b.first, b.last, b.first - 1n, b.last + 1n];
        value = edges[Math.floor(next() * edges.length)]!;
        if (value < 0n || value > max) value = b.first;
      } else {
        value = randomValue();
      }
      const text = spell(groupsOf(value), next);
      expect(l.lookup(text)?.value ?? null, text).toBe(scan(naive, 6, value));
    }
  });
});

function v4Text(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

function groupsOf(v: bigint): number[] {
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((v >> BigInt(16 * i)) & 0xffffn));
  return g;
}

/** One of the many text forms of an IPv6 address: full, zero-padded, upper case, or with some zero run compressed. */
function spell(g: number[], next: () => number): string {
  const upper = next() < 0.2;
  const pad = next() < 0.2;
  const parts = g.map((x) => {
    const h = x.toString(16);
    const t = pad ? h.padStart(4, '0') : h;
    return upper ? t.toUpperCase() : t;
  });
  const runs: [number, number][] = [];
  for (let i = 0; i < 8; i++) {
    if (g[i] !== 0) continue;
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    runs.push([i, j]);
    i = j;
  }
  if (runs.length === 0 || next() < 0.3) return parts.join(':');
  const [from, to] = runs[Math.floor(next() * runs.length)]!;
  return `${parts.slice(0, from).join(':')}::${parts.slice(to).join(':')}`;
}
