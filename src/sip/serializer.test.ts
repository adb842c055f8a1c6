import { describe, expect, it } from 'vitest';
import { formatChallenge } from './auth-header.js';
import type { SipMessage, SipRequest } from './message.js';
import { echoOf } from './parse-error.js';
import { parseMessage } from './parser.js';
import { serializeMessage, serializeRequest, serializeResponse } from './serializer.js';
import * as fixtures from './sip-messages.fixture.js';
import { withReceived } from './via.js';

function parse(buf: Buffer): SipMessage {
  const m = parseMessage(buf, 'datagram');
  if (m.kind === 'parse-error') throw new Error(m.reason);
  return m;
}

function withoutRaw(m: SipMessage): Omit<SipMessage, 'raw'> {
  const { raw: _raw, ...rest } = m;
  return rest;
}

describe('serializeResponse', () => {
  it('writes a 401 challenge byte for byte', () => {
    const req = parse(fixtures.yealinkRegister) as SipRequest;
    const echo = echoOf(req);
    const via = [withReceived(req.via[0]!, '203.0.113.9', 5062, true)];
    const buf = serializeResponse({ ...echo, via }, 401, 'Unauthorized', [
      ['WWW-Authenticate', formatChallenge('Digest', [['realm', 'pbx.example.com', true], ['nonce', '5f3a9c1d', true], ['algorithm', 'MD5', false], ['qop', 'auth', true]])],
      ['Server', 'Rollcall/0.1'],
    ], 'as7d9f');
    expect(buf.toString('latin1')).toBe([
      'SIP/2.0 401 Unauthorized',
      'Via: SIP/2.0/UDP 192.168.1.23:5062;branch=z9hG4bK1426785432;received=203.0.113.9;rport=5062',
      'From: "101" <sip:101@pbx.example.com:5060>;tag=2846183930',
      'To: "101" <sip:101@pbx.example.com:5060>;tag=as7d9f',
      'Call-ID: 0_2948573619@192.168.1.23',
      'CSeq: 1 REGISTER',
      'WWW-Authenticate: Digest realm="pbx.example.com", nonce="5f3a9c1d", algorithm=MD5, qop="auth"',
      'Server: Rollcall/0.1',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'));
  });

  it('writes a 200 OK listing bindings byte for byte, every Via in order, the To tag kept', () => {
    const req = parse(fixtures.pathRegister) as SipRequest;
    const echo = { ...echoOf(req), toTag: 'already', to: '<sip:frank@example.com>;tag=already' };
    const buf = serializeResponse(echo, 200, 'OK', [
      ['Contact', '<sip:frank@203.0.113.50:5060;ob>;expires=1800;+sip.instance="<urn:uuid:11111111-2222-3333-4444-555555555555>";reg-id=2'],
      ['Path', '<sip:term@edge1.example.com;lr;ob>, <sip:edge2.example.com;lr>, <sip:edge3.example.com;lr>'],
      ['Require', 'outbound'],
      ['Date', 'Sat, 21 Nov 2026 22:00:00 GMT'],
    ], 'ignored-because-To-has-a-tag');
    expect(buf.toString('latin1')).toBe([
      'SIP/2.0 200 OK',
      'Via: SIP/2.0/UDP edge1.example.com;branch=z9hG4bKedge1;received=198.51.100.1',
      'Via: SIP/2.0/UDP 203.0.113.50:5060;received=198.51.100.77;rport=40123;branch=z9hG4bKue1',
      'From: <sip:frank@example.com>;tag=f1',
      'To: <sip:frank@example.com>;tag=already',
      'Call-ID: path-1@203.0.113.50',
      'CSeq: 7 REGISTER',
      'Contact: <sip:frank@203.0.113.50:5060;ob>;expires=1800;+sip.instance="<urn:uuid:11111111-2222-3333-4444-555555555555>";reg-id=2',
      'Path: <sip:term@edge1.example.com;lr;ob>, <sip:edge2.example.com;lr>, <sip:edge3.example.com;lr>',
      'Require: outbound',
      'Date: Sat, 21 Nov 2026 22:00:00 GMT',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'));
  });

  it('counts the body in bytes, not characters, and skips a Content-Length passed in', () => {
    const echo = echoOf(parse(fixtures.subscribeRegEvent) as SipRequest);
    const body = '<reginfo>é</reginfo>';
    const buf = serializeResponse(echo, 200, 'OK', [['Content-Type', 'application/reginfo+xml'], ['Content-Length', '999']], 'x', body);
    const back = parseMessage(buf, 'stream');
    expect(back.kind).toBe('response');
    if (back.kind !== 'response') return;
    expect(back.contentLength).toBe(Buffer.byteLength(body));
    expect(back.body.toString('utf8')).toBe(body);
    expect(back.headers.filter((h) => h.name === 'content-length')).toHaveLength(1);
    const binary = serializeResponse(echo, 200, 'OK', [], null, Buffer.from([0, 1, 2, 0xff]));
    expect(binary.subarray(binary.length - 4)).toEqual(Buffer.from([0, 1, 2, 0xff]));
  });

  it('refuses a header value that would break the framing', () => {
    const echo = echoOf(parse(fixtures.yealinkRegister) as SipRequest);
    expect(() => serializeResponse(echo, 200, 'OK', [['X-Bad', 'a\r\nInjected: yes']], null)).toThrow(TypeError);
  });
});

describe('serializeRequest', () => {
  it('writes a request Rollcall originates', () => {
    const buf = serializeRequest('OPTIONS', 'sip:101@192.168.1.23:5062', [
      ['Via', 'SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bK-rc-1'],
      ['Max-Forwards', '70'],
      ['From', '<sip:rollcall@pbx.example.com>;tag=rc1'],
      ['To', '<sip:101@pbx.example.com>'],
      ['Call-ID', 'ka-1@198.51.100.1'],
      ['CSeq', '1 OPTIONS'],
    ]);
    expect(buf.toString()).toBe('OPTIONS sip:101@192.168.1.23:5062 SIP/2.0\r\nVia: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bK-rc-1\r\nMax-Forwards: 70\r\nFrom: <sip:rollcall@pbx.example.com>;tag=rc1\r\nTo: <sip:101@pbx.example.com>\r\nCall-ID: ka-1@198.51.100.1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n');
    expect(parseMessage(buf, 'stream').kind).toBe('request');
  });
});

describe('serializeMessage round trips', () => {
  for (const [name, buf] of Object.entries(fixtures).filter((e): e is [string, Buffer] => Buffer.isBuffer(e[1]))) {
    it(`${name}: parse(serialize(m)) equals m`, () => {
      const m = parse(buf);
      const out = serializeMessage(m);
      const back = parse(out);
      expect(withoutRaw(back)).toEqual(withoutRaw(m));
      // And once canonical, the bytes are stable.
      expect(serializeMessage(back)).toEqual(out);
    });
  }

  it('writes canonical names, one header per line, folding gone', () => {
    const out = serializeMessage(parse(fixtures.compactRegister)).toString();
    expect(out).toBe([
      'REGISTER sip:example.org SIP/2.0',
      'Via: SIP/2.0/UDP 203.0.113.7:5060;rport;branch=z9hG4bK.compact',
      'From: <sip:carol@example.org>;tag=abc',
      'To: <sip:carol@example.org>',
      'Call-ID: compact-1@203.0.113.7',
      'CSeq: 20 REGISTER',
      'Contact: <sip:carol@203.0.113.7:5060>;expires=120',
      'Supported: outbound',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'));
    expect(serializeMessage(parse(fixtures.foldedRegister)).toString()).toContain('\r\nCSeq: 5 REGISTER\r\n');
  });

  it('adds a Content-Length for a stream only when asked', () => {
    const m = parse(Buffer.from('MESSAGE sip:a@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKm\r\nFrom: <sip:b@example.com>;tag=1\r\nTo: <sip:a@example.com>\r\nCall-ID: m@192.0.2.1\r\nCSeq: 1 MESSAGE\r\n\r\nHi'));
    expect(serializeMessage(m).toString()).not.toContain('Content-Length');
    expect(parseMessage(serializeMessage(m, true), 'stream').kind).toBe('request');
  });
});
