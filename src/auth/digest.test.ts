import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { challengeValue, computeDigestResponse, computeHa1, parseAlgorithm } from './digest.js';

// Independent reference: plain createHash, written out step by step as RFC 7616 §3.4.1 does.
const h = (alg: string, s: string) => createHash(alg).update(s).digest('hex');

describe('digest (RFC 7616 §3.9.1 example)', () => {
  const base = {
    username: 'Mufasa',
    realm: 'http-auth@example.org',
    password: 'Circle of Life',
    method: 'GET',
    uri: '/dir/index.html',
    nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
    cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
    nc: '00000001',
  };

  it('MD5 response matches the RFC', () => {
    const ha1 = computeHa1('MD5', base.username, base.realm, base.password);
    expect(ha1).toBe(h('md5', 'Mufasa:http-auth@example.org:Circle of Life'));
    const r = computeDigestResponse({ algorithm: 'MD5', sess: false, ha1, nonce: base.nonce, method: base.method, uri: base.uri, qop: 'auth', nc: base.nc, cnonce: base.cnonce });
    expect(r).toBe('8ca523f5e9506fed4657c9700eebdbec');
  });

  it('SHA-256 response matches the RFC', () => {
    const ha1 = computeHa1('SHA-256', base.username, base.realm, base.password);
    const r = computeDigestResponse({ algorithm: 'SHA-256', sess: false, ha1, nonce: base.nonce, method: base.method, uri: base.uri, qop: 'auth', nc: base.nc, cnonce: base.cnonce });
    expect(r).toBe('753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  });

  it('SIP REGISTER with MD5 and qop=auth equals the step-by-step computation', () => {
    const ha1 = h('md5', '1001:example.com:s3cret');
    const ha2 = h('md5', 'REGISTER:sip:example.com');
    const expected = h('md5', `${ha1}:abc:0000000a:xyz:auth:${ha2}`);
    expect(computeDigestResponse({ algorithm: 'MD5', sess: false, ha1: computeHa1('MD5', '1001', 'example.com', 's3cret'), nonce: 'abc', method: 'REGISTER', uri: 'sip:example.com', qop: 'auth', nc: '0000000a', cnonce: 'xyz' })).toBe(expected);
  });

  it('without qop (RFC 2069 compatibility) the response is H(HA1:nonce:HA2)', () => {
    const ha1 = h('sha256', '1001:example.com:s3cret');
    const expected = h('sha256', `${ha1}:n:${h('sha256', 'REGISTER:sip:example.com')}`);
    expect(computeDigestResponse({ algorithm: 'SHA-256', sess: false, ha1, nonce: 'n', method: 'REGISTER', uri: 'sip:example.com', qop: null, nc: '', cnonce: '' })).toBe(expected);
  });

  it('-sess mixes nonce and cnonce into HA1', () => {
    const ha1 = h('md5', 'u:r:p');
    const sessHa1 = h('md5', `${ha1}:n:c`);
    const expected = h('md5', `${sessHa1}:n:00000001:c:auth:${h('md5', 'REGISTER:sip:r')}`);
    expect(computeDigestResponse({ algorithm: 'MD5', sess: true, ha1, nonce: 'n', method: 'REGISTER', uri: 'sip:r', qop: 'auth', nc: '00000001', cnonce: 'c' })).toBe(expected);
  });

  it('algorithm names are case-insensitive and default to MD5', () => {
    expect(parseAlgorithm(undefined)).toEqual({ algorithm: 'MD5', sess: false });
    expect(parseAlgorithm('sha-256')).toEqual({ algorithm: 'SHA-256', sess: false });
    expect(parseAlgorithm('MD5-sess')).toEqual({ algorithm: 'MD5', sess: true });
    expect(parseAlgorithm('SHA-512-256')).toBeNull();
  });

  it('challenge carries realm, nonce, algorithm, qop and stale only when stale', () => {
    expect(challengeValue('example.com', 'N', 'SHA-256', false)).toBe('Digest realm="example.com", nonce="N", algorithm=SHA-256, qop="auth"');
    expect(challengeValue('example.com', 'N', 'MD5', true)).toBe('Digest realm="example.com", nonce="N", algorithm=MD5, qop="auth", stale=true');
  });
});
