import { describe, expect, it } from 'vitest';
import { formatChallenge, parseAuthValue } from './auth-header.js';

describe('parseAuthValue', () => {
  it('lowercases names, unquotes and unescapes values', () => {
    const v = parseAuthValue('Digest UserName="bob", Realm="biloxi.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="sip:bob@biloxi.com", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc\\"069c\\\\403ebaf9f0171e9517f40e41"');
    expect(v?.scheme).toBe('Digest');
    expect(Object.fromEntries(v!.params)).toEqual({
      username: 'bob', realm: 'biloxi.com', nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093', uri: 'sip:bob@biloxi.com', qop: 'auth',
      nc: '00000001', cnonce: '0a4f113b', response: '6629fae49393a05397450978507c4ef1', opaque: '5ccc"069c\\403ebaf9f0171e9517f40e41',
    });
    expect(v!.params.get('realm')).toBe('biloxi.com');
    expect(v!.params.has('stale')).toBe(false);
    expect(v!.params.size).toBe(9);
  });

  it('accepts no space after commas, LWS around =, and unquoted URIs from sloppy clients', () => {
    const v = parseAuthValue('Digest username = "a",realm="r" ,  uri=sip:r.example;transport=udp,response="x"');
    expect(Object.fromEntries(v!.params)).toEqual({ username: 'a', realm: 'r', uri: 'sip:r.example;transport=udp', response: 'x' });
  });

  it('keeps an empty quoted value', () => {
    expect(parseAuthValue('Digest realm="", nonce="n"')?.params.get('realm')).toBe('');
  });

  it('rejects a parameter given twice, whatever its case', () => {
    expect(parseAuthValue('Digest realm="a", REALM="b"')).toBeNull();
  });

  it('rejects broken Digest values', () => {
    for (const text of ['', 'Digest realm', 'Digest realm="open', 'Digest realm="a",', 'Digest realm="a" nonce="b"', 'Digest =x', 'Digest, realm="a"']) {
      expect(parseAuthValue(text), text).toBeNull();
    }
  });

  it('keeps other schemes, with no parameters when they are not name=value', () => {
    expect(parseAuthValue('Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==')).toMatchObject({ scheme: 'Basic', raw: 'Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==' });
    expect(parseAuthValue('Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==')!.params.size).toBe(0);
    expect([...parseAuthValue('NoOneKnowsThisScheme opaque-data=here')!.params]).toEqual([['opaque-data', 'here']]);
  });
});

describe('formatChallenge', () => {
  it('writes quoted and token values, escaping quotes', () => {
    expect(formatChallenge('Digest', [
      ['realm', 'pbx.example.com', true], ['nonce', 'a"b\\c', true], ['algorithm', 'MD5', false], ['qop', 'auth', true], ['stale', 'true', false],
    ])).toBe('Digest realm="pbx.example.com", nonce="a\\"b\\\\c", algorithm=MD5, qop="auth", stale=true');
  });

  it('round-trips through parseAuthValue', () => {
    const text = formatChallenge('Digest', [['realm', 'r', true], ['nonce', 'x"y', true], ['algorithm', 'SHA-256', false]]);
    expect(Object.fromEntries(parseAuthValue(text)!.params)).toEqual({ realm: 'r', nonce: 'x"y', algorithm: 'SHA-256' });
  });
});
