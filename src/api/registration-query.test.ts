import { describe, expect, it } from 'vitest';
import { Binding } from '../registrar/binding.js';
import { parseAddressPattern, type AddressPattern } from './address-pattern.js';
import {
  accountsByDomain,
  SORT_KEYS,
  bindingMatcher,
  decodeCursor,
  encodeCursor,
  queryRegistrations,
  sortKeyOf,
  type Cursor,
  type SortKey,
} from './registration-query.js';

const T0 = 1_800_000_000_000;

interface Fields {
  id: number;
  username: string;
  domain: string;
  contact: string;
  sourceAddress: string;
  transport: string;
  userAgent: string | null;
  expires: number;
  expiresAt: number;
  registeredAt: number;
  refreshedAt: number;
}

function binding(f: Partial<Fields> & { id: number }): Binding {
  const username = f.username ?? `u${f.id}`;
  const domain = f.domain ?? 'example.com';
  const expires = f.expires ?? 600;
  return new Binding(
    f.id,
    `sip:${username}@${domain}`,
    username,
    domain,
    f.contact ?? `sip:${username}@192.0.2.${f.id % 250}:5060`,
    null,
    null,
    null,
    `call-${f.id}`,
    1,
    expires,
    f.expiresAt ?? T0 + expires * 1000,
    f.registeredAt ?? T0,
    f.refreshedAt ?? T0,
    f.sourceAddress ?? '203.0.113.9',
    40000 + f.id,
    f.transport ?? 'UDP',
    '0.0.0.0',
    5060,
    f.userAgent === undefined ? 'Yealink SIP-T46S 66.86.0.15' : f.userAgent,
    [],
    false,
  );
}

function ip(text: string): AddressPattern {
  const p = parseAddressPattern(text);
  if (typeof p === 'string') throw new Error(p);
  return p;
}

const all = (): boolean => true;
const ids = (bs: readonly Binding[]): number[] => bs.map((b) => b.id);

describe('bindingMatcher', () => {
  it('an empty filter matches every binding, unregistered ones included', () => {
    const m = bindingMatcher({}, T0 + 1_000_000, 0.1);
    expect(m(binding({ id: 1 }))).toBe(true);
    expect(m(binding({ id: 2, userAgent: null }))).toBe(true);
  });

  it('number is an exact match of the username', () => {
    const m = bindingMatcher({ number: '1001' }, T0, 0.1);
    expect(m(binding({ id: 1, username: '1001' }))).toBe(true);
    expect(m(binding({ id: 2, username: '10010' }))).toBe(false);
    expect(m(binding({ id: 3, username: '100' }))).toBe(false);
  });

  it('numberPrefix matches usernames starting with it', () => {
    const m = bindingMatcher({ numberPrefix: '10' }, T0, 0.1);
    expect(m(binding({ id: 1, username: '1001' }))).toBe(true);
    expect(m(binding({ id: 2, username: '10' }))).toBe(true);
    expect(m(binding({ id: 3, username: '2010' }))).toBe(false);
  });

  it('transport is an exact match', () => {
    const m = bindingMatcher({ transport: 'TCP' }, T0, 0.1);
    expect(m(binding({ id: 1, transport: 'TCP' }))).toBe(true);
    expect(m(binding({ id: 2, transport: 'UDP' }))).toBe(false);
  });

  it('status registered keeps Registered bindings only; expiring keeps Expiring ones only; neither keeps Unregistered', () => {
    // expires 100 s, share 0.1: Expiring from T0+90 s, Unregistered from T0+100 s.
    const b = binding({ id: 1, expires: 100, expiresAt: T0 + 100_000 });
    const registered = (now: number) => bindingMatcher({ status: 'registered' }, now, 0.1)(b);
    const expiring = (now: number) => bindingMatcher({ status: 'expiring' }, now, 0.1)(b);
    expect([registered(T0 + 89_999), expiring(T0 + 89_999)]).toEqual([true, false]);
    expect([registered(T0 + 90_000), expiring(T0 + 90_000)]).toEqual([false, true]);
    expect([registered(T0 + 99_999), expiring(T0 + 99_999)]).toEqual([false, true]);
    expect([registered(T0 + 100_000), expiring(T0 + 100_000)]).toEqual([false, false]);
  });

  it('userAgent is a substring of the lowercased User-Agent; no User-Agent never matches', () => {
    const m = bindingMatcher({ userAgent: 'sip-t46' }, T0, 0.1);
    expect(m(binding({ id: 1, userAgent: 'Yealink SIP-T46S 66.86.0.15' }))).toBe(true);
    expect(m(binding({ id: 2, userAgent: 'Zoiper 5' }))).toBe(false);
    expect(m(binding({ id: 3, userAgent: null }))).toBe(false);
  });

  it('customerAccounts match on username and domain', () => {
    const m = bindingMatcher({ customerAccounts: accountsByDomain(['1001@example.com']) }, T0, 0.1);
    expect(m(binding({ id: 1, username: '1001', domain: 'example.com' }))).toBe(true);
    expect(m(binding({ id: 2, username: '1001', domain: 'example.net' }))).toBe(false);
    expect(m(binding({ id: 3, username: '1002', domain: 'example.com' }))).toBe(false);
  });

  it('ip matches the source address or, failing that, the contact address', () => {
    const m = bindingMatcher({ ip: ip('192.168.1.x') }, T0, 0.1);
    expect(m(binding({ id: 1, sourceAddress: '192.168.1.20', contact: 'sip:a@203.0.113.1' }))).toBe(true);
    expect(m(binding({ id: 2, sourceAddress: '203.0.113.9', contact: 'sip:a@192.168.1.20:5062;transport=udp' }))).toBe(true);
    expect(m(binding({ id: 3, sourceAddress: '203.0.113.9', contact: 'sip:a@10.0.0.1:5062' }))).toBe(false);
    expect(m(binding({ id: 4, sourceAddress: '203.0.113.9', contact: 'not a uri' }))).toBe(false);
  });

  it('an IPv6 ip filter matches a bracketed IPv6 contact', () => {
    const m = bindingMatcher({ ip: ip('2001:db8::/32') }, T0, 0.1);
    expect(m(binding({ id: 1, sourceAddress: '198.51.100.1', contact: 'sip:a@[2001:db8::7]:5070' }))).toBe(true);
    expect(m(binding({ id: 2, sourceAddress: '198.51.100.1', contact: 'sip:a@[2001:db9::7]:5070' }))).toBe(false);
  });

  it('every filter given must match', () => {
    const m = bindingMatcher({ numberPrefix: '10', transport: 'UDP', userAgent: 'yealink' }, T0, 0.1);
    expect(m(binding({ id: 1, username: '1001', transport: 'UDP', userAgent: 'Yealink' }))).toBe(true);
    expect(m(binding({ id: 2, username: '2001', transport: 'UDP', userAgent: 'Yealink' }))).toBe(false);
    expect(m(binding({ id: 3, username: '1001', transport: 'TCP', userAgent: 'Yealink' }))).toBe(false);
    expect(m(binding({ id: 4, username: '1001', transport: 'UDP', userAgent: 'Zoiper' }))).toBe(false);
  });
});

describe('sortKeyOf', () => {
  it('gives the field of each sort key; a missing User-Agent sorts as the empty string', () => {
    const b = binding({ id: 7, username: '1001', sourceAddress: '198.51.100.4', userAgent: null, registeredAt: 1, refreshedAt: 2, expiresAt: 3 });
    const keys: Record<SortKey, string | number> = {
      number: '1001',
      aor: 'sip:1001@example.com',
      sourceAddress: '198.51.100.4',
      userAgent: '',
      registeredAt: 1,
      refreshedAt: 2,
      expiresAt: 3,
    };
    for (const k of SORT_KEYS) expect(sortKeyOf(b, k)).toBe(keys[k]);
  });
});

describe('queryRegistrations', () => {
  const rows = [
    binding({ id: 5, username: '1003' }),
    binding({ id: 1, username: '1002' }),
    binding({ id: 4, username: '1001' }),
    binding({ id: 2, username: '1002' }),
    binding({ id: 3, username: '1001' }),
  ];

  it('sorts ascending by key, ties broken by ascending id', () => {
    const page = queryRegistrations(rows, all, 'number', false, 10, null);
    expect(ids(page.items)).toEqual([3, 4, 1, 2, 5]);
    expect(page.total).toBe(5);
    expect(page.next).toBeNull();
  });

  it('sorts descending by key, ties broken by descending id', () => {
    const page = queryRegistrations(rows, all, 'number', true, 10, null);
    expect(ids(page.items)).toEqual([5, 2, 1, 4, 3]);
    expect(page.next).toBeNull();
  });

  it('a full page that is not the last one gives the key and id of its last row as next', () => {
    const page = queryRegistrations(rows, all, 'number', false, 2, null);
    expect(ids(page.items)).toEqual([3, 4]);
    expect(page.total).toBe(5);
    expect(page.next).toEqual({ key: '1001', id: 4 });
  });

  it('pages on from the cursor, with total still counting every match', () => {
    const second = queryRegistrations(rows, all, 'number', false, 2, { key: '1001', id: 4 });
    expect(ids(second.items)).toEqual([1, 2]);
    expect(second.total).toBe(5);
    expect(second.next).toEqual({ key: '1002', id: 2 });
    const third = queryRegistrations(rows, all, 'number', false, 2, { key: '1002', id: 2 });
    expect(ids(third.items)).toEqual([5]);
    expect(third.total).toBe(5);
    expect(third.next).toBeNull();
  });

  it('pages on from the cursor in descending order', () => {
    const first = queryRegistrations(rows, all, 'number', true, 2, null);
    expect(ids(first.items)).toEqual([5, 2]);
    expect(first.next).toEqual({ key: '1002', id: 2 });
    const second = queryRegistrations(rows, all, 'number', true, 2, first.next);
    expect(ids(second.items)).toEqual([1, 4]);
    expect(second.next).toEqual({ key: '1001', id: 4 });
    const third = queryRegistrations(rows, all, 'number', true, 2, second.next);
    expect(ids(third.items)).toEqual([3]);
    expect(third.next).toBeNull();
  });

  it('next is null when the rows left exactly fill the page', () => {
    const page = queryRegistrations(rows, all, 'number', false, 3, { key: '1001', id: 4 });
    expect(ids(page.items)).toEqual([1, 2, 5]);
    expect(page.next).toBeNull();
  });

  it('a cursor past the last row gives an empty last page', () => {
    const page = queryRegistrations(rows, all, 'number', false, 2, { key: '1003', id: 5 });
    expect(page.items).toEqual([]);
    expect(page.total).toBe(5);
    expect(page.next).toBeNull();
  });

  it('a cursor of a row that has gone since still pages on from its place', () => {
    // id 6 with key 1001 is not in the list any more; rows after (1001, 6) follow.
    const page = queryRegistrations(rows, all, 'number', false, 10, { key: '1001', id: 6 });
    expect(ids(page.items)).toEqual([1, 2, 5]);
  });

  it('keeps only matches, and total counts only them', () => {
    const page = queryRegistrations(rows, (b) => b.username !== '1002', 'number', false, 10, null);
    expect(ids(page.items)).toEqual([3, 4, 5]);
    expect(page.total).toBe(3);
    expect(page.next).toBeNull();
  });

  it('no bindings give an empty page', () => {
    expect(queryRegistrations([], all, 'aor', false, 10, null)).toEqual({ items: [], total: 0, next: null });
  });

  it('sorts numeric keys as numbers, not as text', () => {
    const bs = [binding({ id: 1, registeredAt: 900 }), binding({ id: 2, registeredAt: 10_000 }), binding({ id: 3, registeredAt: 80 })];
    expect(ids(queryRegistrations(bs, all, 'registeredAt', false, 10, null).items)).toEqual([3, 1, 2]);
    expect(ids(queryRegistrations(bs, all, 'registeredAt', true, 10, null).items)).toEqual([2, 1, 3]);
  });

  it('a missing User-Agent sorts first ascending and last descending', () => {
    const bs = [binding({ id: 1, userAgent: 'Zoiper' }), binding({ id: 2, userAgent: null }), binding({ id: 3, userAgent: 'Grandstream' })];
    expect(ids(queryRegistrations(bs, all, 'userAgent', false, 10, null).items)).toEqual([2, 3, 1]);
    expect(ids(queryRegistrations(bs, all, 'userAgent', true, 10, null).items)).toEqual([1, 3, 2]);
  });

  it('selects the right page whatever order the table yields bindings in', () => {
    const many = Array.from({ length: 50 }, (_, i) => binding({ id: i + 1, expiresAt: T0 + (i + 1) * 1000 }));
    for (const input of [many, [...many].reverse()]) {
      const asc = queryRegistrations(input, all, 'expiresAt', false, 5, null);
      expect(ids(asc.items)).toEqual([1, 2, 3, 4, 5]);
      expect(asc.next).toEqual({ key: T0 + 5000, id: 5 });
      const desc = queryRegistrations(input, all, 'expiresAt', true, 5, null);
      expect(ids(desc.items)).toEqual([50, 49, 48, 47, 46]);
      expect(desc.next).toEqual({ key: T0 + 46_000, id: 46 });
    }
  });

  it('a limit of 1 pages one row at a time', () => {
    const seen: number[] = [];
    let after: Cursor | null = null;
    for (let i = 0; i < 10; i++) {
      const page = queryRegistrations(rows, all, 'number', false, 1, after);
      seen.push(...ids(page.items));
      if (page.next === null) break;
      after = page.next;
    }
    expect(seen).toEqual([3, 4, 1, 2, 5]);
  });
});

describe('queryRegistrations paging over random bindings', () => {
  // A small seeded generator: the same bindings every run, so a failure reproduces.
  function random(seed: number): () => number {
    let s = seed >>> 0;
    return () => {
      s = (s + 0x6d2b79f5) >>> 0;
      let t = s;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  const USER_AGENTS = ['Yealink SIP-T46S', 'Zoiper 5', 'Grandstream GXP2170', 'Linphone', null];
  const TRANSPORTS = ['UDP', 'TCP', 'TLS'];

  // Few distinct values per key, so many rows tie and the id breaks the ties.
  function randomBinding(rnd: () => number, id: number): Binding {
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const username = String(1000 + Math.floor(rnd() * 300));
    const registeredAt = T0 + Math.floor(rnd() * 50) * 1000;
    return binding({
      id,
      username,
      domain: pick(['example.com', 'example.net']),
      sourceAddress: `10.0.${Math.floor(rnd() * 4)}.${Math.floor(rnd() * 20)}`,
      transport: pick(TRANSPORTS),
      userAgent: pick(USER_AGENTS),
      registeredAt,
      refreshedAt: registeredAt + Math.floor(rnd() * 10) * 1000,
      expiresAt: registeredAt + Math.floor(rnd() * 30) * 60_000,
    });
  }

  function fullSort(bs: Iterable<Binding>, matches: (b: Binding) => boolean, key: SortKey, descending: boolean): number[] {
    const dir = descending ? -1 : 1;
    return [...bs]
      .filter(matches)
      .sort((a, b) => {
        const ka = sortKeyOf(a, key);
        const kb = sortKeyOf(b, key);
        if (ka !== kb) return dir * (ka < kb ? -1 : 1);
        return dir * (a.id - b.id);
      })
      .map((b) => b.id);
  }

  const matchers: Array<[string, (b: Binding) => boolean]> = [
    ['every binding', all],
    ['UDP bindings whose User-Agent holds an i', bindingMatcher({ transport: 'UDP', userAgent: 'i' }, T0, 0.1)],
  ];

  for (const [what, matches] of matchers) {
    it(`concatenated pages of 37 equal a full sort, for ${what}, every key, both orders`, () => {
      const rnd = random(20250101);
      const bindings = Array.from({ length: 2000 }, (_, i) => randomBinding(rnd, i + 1));
      for (const key of SORT_KEYS) {
        for (const descending of [false, true]) {
          const expected = fullSort(bindings, matches, key, descending);
          const got: number[] = [];
          let after: Cursor | null = null;
          let pages = 0;
          for (;;) {
            const page = queryRegistrations(bindings, matches, key, descending, 37, after);
            pages++;
            expect(page.total).toBe(expected.length);
            expect(page.items.length).toBeLessThanOrEqual(37);
            got.push(...ids(page.items));
            if (page.next === null) break;
            expect(page.items.length).toBe(37);
            const last = page.items[page.items.length - 1]!;
            expect(page.next).toEqual({ key: sortKeyOf(last, key), id: last.id });
            // The cursor survives the trip through its text form.
            after = decodeCursor(encodeCursor(page.next));
            expect(pages).toBeLessThan(200);
          }
          expect(got, `${key} ${descending ? 'desc' : 'asc'}`).toEqual(expected);
          expect(pages).toBe(Math.max(1, Math.ceil(expected.length / 37)));
        }
      }
    });
  }

  it('rows that stay are each listed exactly once while bindings are added and removed between pages', () => {
    for (const key of SORT_KEYS) {
      for (const descending of [false, true]) {
        const rnd = random(key.length * 7919 + (descending ? 1 : 0));
        const table = new Map<number, Binding>();
        let nextId = 1;
        for (; nextId <= 2000; nextId++) table.set(nextId, randomBinding(rnd, nextId));
        const initial = new Set(table.keys());
        const removed = new Set<number>();

        const got: number[] = [];
        let previousLast: Binding | null = null;
        let after: Cursor | null = null;
        for (let pages = 0; ; pages++) {
          expect(pages).toBeLessThan(200);
          const page = queryRegistrations(table.values(), all, key, descending, 37, after);
          expect(page.total).toBe(table.size);
          // Each page is in order and starts after the previous one.
          const order = [...(previousLast ? [previousLast] : []), ...page.items];
          const outOfOrder = order.filter((b, i) => {
            if (i === 0) return false;
            const a = order[i - 1]!;
            const ka = sortKeyOf(a, key);
            const kb = sortKeyOf(b, key);
            const cmp = ka !== kb ? (ka < kb ? -1 : 1) : a.id - b.id;
            return (descending ? -cmp : cmp) >= 0;
          });
          expect(ids(outOfOrder)).toEqual([]);
          got.push(...ids(page.items));
          if (page.next === null) break;
          previousLast = page.items[page.items.length - 1]!;
          after = page.next;
          // Churn: a few bindings go (listed or not yet), a few new ones come.
          const present = [...table.keys()];
          for (let i = 0; i < 6; i++) {
            const id = present[Math.floor(rnd() * present.length)]!;
            table.delete(id);
            removed.add(id);
          }
          for (let i = 0; i < 6; i++, nextId++) table.set(nextId, randomBinding(rnd, nextId));
        }

        expect(new Set(got).size, `${key} ${descending ? 'desc' : 'asc'}: no row repeated`).toBe(got.length);
        const stayed = [...initial].filter((id) => !removed.has(id));
        const listed = new Set(got);
        expect(stayed.filter((id) => !listed.has(id)), `${key} ${descending ? 'desc' : 'asc'}: no row that stayed missing`).toEqual([]);
        expect(removed.size).toBeGreaterThan(0);
      }
    }
  });
});

describe('encodeCursor / decodeCursor', () => {
  it('round-trip a text key and a number key', () => {
    for (const c of [{ key: '1001', id: 4 }, { key: T0, id: 123456 }, { key: '', id: 1 }, { key: 'sip:ü@example.com, "q"', id: 9 }] satisfies Cursor[]) {
      expect(decodeCursor(encodeCursor(c))).toEqual(c);
    }
  });

  it('the encoded cursor is URL-safe base64 without padding', () => {
    const text = encodeCursor({ key: '???>>>', id: 1 });
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(text, 'base64url').toString('utf8')).toBe('["???>>>",1]');
  });

  it.each([
    ['empty', ''],
    ['not base64 of JSON', 'not a cursor!!'],
    ['JSON object', Buffer.from('{"key":"a","id":1}').toString('base64url')],
    ['array of one', Buffer.from('["a"]').toString('base64url')],
    ['array of three', Buffer.from('["a",1,2]').toString('base64url')],
    ['id as text', Buffer.from('["a","1"]').toString('base64url')],
    ['null key', Buffer.from('[null,1]').toString('base64url')],
    ['object key', Buffer.from('[{},1]').toString('base64url')],
    ['boolean key', Buffer.from('[true,1]').toString('base64url')],
    ['truncated JSON', Buffer.from('["a",1').toString('base64url')],
    ['a bare number', Buffer.from('42').toString('base64url')],
  ])('decodeCursor gives null for garbage: %s', (_what, text) => {
    expect(decodeCursor(text)).toBeNull();
  });
});
