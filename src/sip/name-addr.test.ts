import { describe, expect, it } from 'vitest';
import type { NameAddr } from './message.js';
import { formatNameAddr, parseContact, parseNameAddr, parseNameAddrList } from './name-addr.js';

function list(text: string): NameAddr[] | null {
  const out: NameAddr[] = [];
  return parseNameAddrList(text, out) ? out : null;
}

describe('parseNameAddr', () => {
  it('reads a quoted display name with escapes, the URI in brackets and header params', () => {
    expect(parseNameAddr('"Alice \\"Al\\" O\'Neil" <sip:alice@atlanta.com;transport=tcp>;tag=1928301774;q=0.8')).toEqual({
      displayName: 'Alice "Al" O\'Neil',
      uri: { scheme: 'sip', user: 'alice', password: null, host: 'atlanta.com', hostType: 'domain', port: null, params: [['transport', 'tcp']], headers: [] },
      uriText: 'sip:alice@atlanta.com;transport=tcp',
      params: [['tag', '1928301774'], ['q', '0.8']],
      raw: '"Alice \\"Al\\" O\'Neil" <sip:alice@atlanta.com;transport=tcp>;tag=1928301774;q=0.8',
    });
  });

  it('reads token display names, with or without space before <', () => {
    expect(parseNameAddr('Bob  Smith <sip:bob@biloxi.com>')?.displayName).toBe('Bob  Smith');
    expect(parseNameAddr('caller<sip:caller@example.com>;tag=323')?.displayName).toBe('caller');
    expect(parseNameAddr('<sip:bob@biloxi.com>')?.displayName).toBeNull();
    expect(parseNameAddr('"" <sip:bob@biloxi.com>')?.displayName).toBe('');
  });

  it('gives the params after a bare addr-spec to the header (RFC 3261 §20)', () => {
    const na = parseNameAddr('sip:a@b.example;expires=60;q=0.5');
    expect(na?.uriText).toBe('sip:a@b.example');
    expect(na?.params).toEqual([['expires', '60'], ['q', '0.5']]);
    expect(na?.uri).toMatchObject({ params: [] });
  });

  it('allows whitespace around ; and = of header params', () => {
    expect(parseNameAddr('sip:a@b.example ;   tag    = 19 ; lr')?.params).toEqual([['tag', '19'], ['lr', null]]);
  });

  it('keeps quoted param values with their quotes', () => {
    expect(parseNameAddr('<sip:a@192.0.2.1>;+sip.instance="<urn:uuid:0000>";reg-id=1')?.params)
      .toEqual([['+sip.instance', '"<urn:uuid:0000>"'], ['reg-id', '1']]);
  });

  const bad = [
    '', '   ', '"unterminated <sip:a@b.example>', '"Alice" sip:a@b.example', '<sip:a@b.example', 'Bell, Alexander <sip:a@b.example>',
    '< sip:a@b.example >', 'sip:a@b.example?Route=%3Csip:x%3E', '<sip:a@b.example>;;', '<sip:a@b.example>;tag=', '<sip:a@b.example> junk',
    '<sip:a@>', 'Bob sip:bob@biloxi.com',
  ];
  for (const text of bad) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      expect(parseNameAddr(text)).toBeNull();
    });
  }
});

describe('parseNameAddrList', () => {
  it('splits at commas outside quotes and angle brackets', () => {
    const cs = list('"Doe, John" <sip:j,k@a.example>;q=1, <sip:k@b.example>,sip:l@c.example;expires=5');
    expect(cs?.map((c) => [c.displayName, c.uriText, c.params])).toEqual([
      ['Doe, John', 'sip:j,k@a.example', [['q', '1']]],
      [null, 'sip:k@b.example', []],
      [null, 'sip:l@c.example', [['expires', '5']]],
    ]);
  });

  it('rejects empty elements and open quotes', () => {
    expect(list('<sip:a@b.example>,')).toBeNull();
    expect(list('<sip:a@b.example>, ,<sip:c@d.example>')).toBeNull();
    expect(list('"open, <sip:a@b.example>')).toBeNull();
  });
});

describe('parseContact', () => {
  it('knows the wildcard, alone', () => {
    expect(parseContact(' * ')).toBe('*');
    expect(parseContact('*, <sip:a@b.example>')).toBeNull();
    expect(parseContact('*;expires=0')).toBeNull();
  });

  it('reads a list of contacts', () => {
    const cs = parseContact('<sip:a@b.example>;expires=60, sip:c@d.example');
    expect(cs).not.toBe('*');
    expect((cs as NameAddr[]).map((c) => c.uriText)).toEqual(['sip:a@b.example', 'sip:c@d.example']);
  });
});

describe('formatNameAddr', () => {
  it('writes display name quoted, URI in brackets, params as they were', () => {
    const na = parseNameAddr('Bob <sip:bob@biloxi.com>;expires=60;+sip.instance="<urn:x>"')!;
    expect(formatNameAddr(na)).toBe('"Bob" <sip:bob@biloxi.com>;expires=60;+sip.instance="<urn:x>"');
    expect(formatNameAddr(parseNameAddr('sip:a@b.example;q=1')!)).toBe('<sip:a@b.example>;q=1');
    expect(formatNameAddr(parseNameAddr('"a \\"b\\"" <sip:a@b.example>')!)).toBe('"a \\"b\\"" <sip:a@b.example>');
  });
});
