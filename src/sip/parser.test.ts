import { describe, expect, it } from 'vitest';
import type { AuthValue, NameAddr, SipMessage, SipRequest, SipResponse, SipUri } from './message.js';
import { getParam, headerValue, headerValues } from './message.js';
import { echoOf, type SipParseError } from './parse-error.js';
import { parseMessage } from './parser.js';
import {
  challengeResponse, ciscoSpaRegister, compactRegister, foldedRegister, grandstreamRegister,
  ipv6Register, jssipRegister, linphoneRegister, microsipRegister, multiContactRegister, okWithBody,
  optionsKeepalive, pathRegister, polycomRegister, sip, snomRegister, subscribeRegEvent,
  wildcardRegister, yealinkRegister, zoiperRegister,
} from './sip-messages.fixture.js';

function request(buf: Buffer, transport: 'datagram' | 'stream' = 'datagram'): SipRequest {
  const m = parseMessage(buf, transport);
  if (m.kind !== 'request') throw new Error(`expected a request, got ${JSON.stringify(m.kind === 'parse-error' ? m : m.kind)}`);
  return m;
}

function response(buf: Buffer): SipResponse {
  const m = parseMessage(buf, 'datagram');
  if (m.kind !== 'response') throw new Error(`expected a response, got ${JSON.stringify(m.kind === 'parse-error' ? m : m.kind)}`);
  return m;
}

function failure(buf: Buffer, transport: 'datagram' | 'stream' = 'datagram'): SipParseError {
  const m = parseMessage(buf, transport);
  if (m.kind !== 'parse-error') throw new Error(`expected a parse error, got a ${m.kind}`);
  return m;
}

function sipUri(na: NameAddr | undefined): SipUri {
  const u = na?.uri;
  if (u === undefined || (u.scheme !== 'sip' && u.scheme !== 'sips')) throw new Error('not a SIP URI');
  return u as SipUri;
}

function authParams(a: AuthValue | undefined): Record<string, string> {
  return Object.fromEntries(a?.params ?? []);
}

describe('real-world REGISTERs parse into exact typed values', () => {
  it('Yealink T46S initial REGISTER', () => {
    const m = request(yealinkRegister);
    expect(m.method).toBe('REGISTER');
    expect(m.uriText).toBe('sip:pbx.example.com:5060');
    expect(m.uri).toEqual({ scheme: 'sip', user: null, password: null, host: 'pbx.example.com', hostType: 'domain', port: 5060, params: [], headers: [] });
    expect(m.via).toHaveLength(1);
    expect(m.via[0]).toEqual({
      protocol: 'SIP/2.0', transport: 'UDP', host: '192.168.1.23', hostType: 'ipv4', port: 5062,
      params: [['branch', 'z9hG4bK1426785432']], raw: 'SIP/2.0/UDP 192.168.1.23:5062;branch=z9hG4bK1426785432',
    });
    expect(m.from.displayName).toBe('101');
    expect(m.from.uriText).toBe('sip:101@pbx.example.com:5060');
    expect(m.from.params).toEqual([['tag', '2846183930']]);
    expect(m.to.params).toEqual([]);
    expect(m.to.raw).toBe('"101" <sip:101@pbx.example.com:5060>');
    expect(m.callId).toBe('0_2948573619@192.168.1.23');
    expect(m.cseq).toEqual({ seq: 1, method: 'REGISTER' });
    expect(m.maxForwards).toBe(70);
    expect(m.expires).toBe(3600);
    expect(m.userAgent).toBe('Yealink SIP-T46S 66.86.0.15');
    expect(m.contact).toHaveLength(1);
    const c = (m.contact as NameAddr[])[0]!;
    expect(c.displayName).toBeNull();
    expect(sipUri(c)).toMatchObject({ user: '101', host: '192.168.1.23', port: 5062 });
    expect(m.authorization).toEqual([]);
    expect(m.require).toEqual([]);
    expect(m.supported).toEqual([]);
    expect(m.contentLength).toBe(0);
    expect(m.body.length).toBe(0);
    expect(m.raw).toBe(yealinkRegister);
    expect(m.headers.map((h) => h.name)).toEqual([
      'via', 'from', 'to', 'call-id', 'cseq', 'contact', 'allow', 'max-forwards', 'user-agent', 'expires', 'allow-events', 'content-length',
    ]);
    expect(headerValue(m, 'allow-events')).toBe('talk,hold,conference,refer,check-sync');
  });

  it('Polycom VVX over TCP: +sip.instance, reg-id, quoted methods with commas, Authorization', () => {
    const m = request(polycomRegister, 'stream');
    expect(m.via[0]).toMatchObject({ transport: 'TCP', host: '10.0.0.51', port: 5060 });
    expect(m.via[0]!.params).toEqual([['branch', 'z9hG4bK9c2d1a8e6C3D61F3'], ['rport', null]]);
    expect(m.from.displayName).toBe('Bob Smith');
    expect(m.contact).toHaveLength(1);
    const c = (m.contact as NameAddr[])[0]!;
    expect(sipUri(c).params).toEqual([['transport', 'tcp']]);
    expect(c.params).toEqual([
      ['methods', '"INVITE,ACK,BYE,CANCEL,OPTIONS,INFO,MESSAGE,SUBSCRIBE,NOTIFY,PRACK,UPDATE,REFER"'],
      ['+sip.instance', '"<urn:uuid:a8d4f1c2-0b9e-5d7a-8c3f-0004f2a1b2c3>"'],
      ['reg-id', '1'],
    ]);
    expect(m.supported).toEqual(['path', 'outbound', 'gruu']);
    expect(m.authorization).toHaveLength(1);
    expect(m.authorization[0]!.scheme).toBe('Digest');
    expect(authParams(m.authorization[0])).toEqual({
      username: '2001', realm: 'voip.example.net', nonce: 'Y2xvdWQtbm9uY2UtMTIzNDU2', qop: 'auth', cnonce: 'aBcDeFgH',
      nc: '00000001', opaque: 'c2VydmVyLW9wYXF1ZQ==', uri: 'sip:voip.example.net', response: '5b1e0c4a9d3f2e7b8a6c4d2e1f0a9b8c', algorithm: 'MD5',
    });
    expect(m.expires).toBe(300);
  });

  it('Grandstream GXP2170: uppercase hex in +sip.instance kept as written', () => {
    const m = request(grandstreamRegister);
    const c = (m.contact as NameAddr[])[0]!;
    expect(getParam(c.params, '+sip.instance')).toBe('"<urn:uuid:00000000-0000-1000-8000-000B82A1B2C3>"');
    expect(getParam(c.params, 'reg-id')).toBe('1');
    expect(m.callId).toBe('1093855405-5060-1@BA.BAA.A.BAF');
    expect(m.cseq.seq).toBe(2033);
    expect(authParams(m.authorization[0]).nonce).toBe('1700000000:abcdef0123456789');
    expect(m.userAgent).toBe('Grandstream GXP2170 1.0.11.23');
  });

  it('Cisco SPA504G: display name in Contact, expires param, headers after Content-Length', () => {
    const m = request(ciscoSpaRegister);
    const c = (m.contact as NameAddr[])[0]!;
    expect(c.displayName).toBe('Front Desk');
    expect(c.params).toEqual([['expires', '3600']]);
    expect(m.expires).toBeNull();
    expect(m.supported).toEqual(['replaces']);
    expect(m.cseq.seq).toBe(49291);
  });

  it('Snom D735 over TLS with sips: URIs and a long list of feature tags', () => {
    const m = request(snomRegister);
    expect(m.uri.scheme).toBe('sips');
    expect(m.via[0]!.transport).toBe('TLS');
    expect(sipUri(m.to)).toMatchObject({ scheme: 'sips', user: '4711', host: 'sip.example.com' });
    const c = (m.contact as NameAddr[])[0]!;
    expect(sipUri(c).params).toEqual([['transport', 'tls'], ['line', 'x9k2m1p0']]);
    expect(c.params.map((p) => p[0])).toEqual([
      'reg-id', 'q', '+sip.instance', 'audio', 'mobility', 'duplex', 'description', 'actor', 'events', 'methods',
    ]);
    expect(getParam(c.params, 'audio')).toBeNull();
    expect(getParam(c.params, 'q')).toBe('1.0');
  });

  it('Zoiper: uppercase transport params and Authorization without spaces after commas', () => {
    const m = request(zoiperRegister);
    expect(m.uri).toMatchObject({ host: 'sip.example.com', params: [['transport', 'UDP']] });
    expect(sipUri(m.to).params).toEqual([['transport', 'UDP']]);
    const c = (m.contact as NameAddr[])[0]!;
    expect(sipUri(c).params).toEqual([['rinstance', '3f1c2b7d9e0a4c61'], ['transport', 'UDP']]);
    expect(authParams(m.authorization[0])).toEqual({
      username: 'alice', realm: 'sip.example.com', nonce: '0a1b2c3d4e5f', uri: 'sip:sip.example.com;transport=UDP',
      response: 'a1b2c3d4e5f60718293a4b5c6d7e8f90', cnonce: 'b6d1e2f3a4c5', nc: '00000001', qop: 'auth', algorithm: 'MD5',
    });
    expect(m.supported).toEqual(['replaces', 'norefersub', 'extended-refer', 'timer', 'outbound', 'path', 'x-cisco-serviceuri']);
    expect(m.expires).toBe(60);
  });

  it('Linphone: bare addr-spec To, repeated Accept lines, alias Via param', () => {
    const m = request(linphoneRegister, 'stream');
    expect(m.to.displayName).toBeNull();
    expect(m.to.uriText).toBe('sip:dave@sip.linphone.example');
    expect(m.from.params).toEqual([['tag', 'kD3rY~xN1']]);
    expect(m.via[0]!.params).toEqual([['alias', null], ['branch', 'z9hG4bK.Xh2fS1wLa'], ['rport', null]]);
    expect(headerValues(m, 'accept')).toEqual(['application/sdp', 'text/plain']);
    const c = (m.contact as NameAddr[])[0]!;
    expect(getParam(c.params, '+org.linphone.specs')).toBe('"lime"');
    expect(m.userAgent).toBe('LinphoneAndroid/4.6.0 (Pixel 6) LinphoneSDK/5.1.0');
  });

  it('JsSIP over WebSocket: Via SIP/2.0/WSS with a .invalid host, Contact with transport=ws', () => {
    const m = request(jssipRegister);
    expect(m.via[0]).toMatchObject({ protocol: 'SIP/2.0', transport: 'WSS', host: '5e1qt3v8fk1r.invalid', hostType: 'domain', port: null });
    const c = (m.contact as NameAddr[])[0]!;
    const u = sipUri(c);
    expect(u.host).toBe('5e1qt3v8fk1r.invalid');
    expect(u.port).toBeNull();
    expect(getParam(u.params, 'transport')).toBe('ws');
    expect(getParam(c.params, '+sip.ice')).toBeNull();
    expect(getParam(c.params, 'reg-id')).toBe('1');
    expect(getParam(c.params, '+sip.instance')).toBe('"<urn:uuid:0c4b5a6f-2c9d-4a9b-8e3e-3b1b1c9a4e1a>"');
    expect(c.uriText).toBe('sip:v9g4f8nq@5e1qt3v8fk1r.invalid;transport=ws');
    expect(m.userAgent).toBe('JsSIP 3.13.8');
  });

  it('Via transports WS, WSS and TLS as written, in any case', () => {
    for (const [written, token] of [['WS', 'WS'], ['ws', 'WS'], ['WSS', 'WSS'], ['Wss', 'WSS'], ['TLS', 'TLS'], ['tls', 'TLS']] as const) {
      const m = request(sip([
        'OPTIONS sip:example.com SIP/2.0',
        `Via: SIP/2.0/${written} host.invalid:5061;branch=z9hG4bK1`,
        'From: <sip:a@example.com>;tag=1',
        'To: <sip:example.com>',
        `Call-ID: via-${written}`,
        'CSeq: 1 OPTIONS',
        'Contact: <sip:abc@xyz.invalid;transport=ws>',
        'Content-Length: 0',
      ]), 'stream');
      expect(m.via[0]!.transport).toBe(token);
      expect(m.via[0]!.port).toBe(5061);
    }
  });

  it('MicroSIP: ob URI param, double space in Content-Length', () => {
    const m = request(microsipRegister);
    const c = (m.contact as NameAddr[])[0]!;
    expect(c.displayName).toBe('Erin');
    expect(sipUri(c).params).toEqual([['ob', null]]);
    expect(m.via[0]!.params).toEqual([['rport', null], ['branch', 'z9hG4bKPj8f2e1d0c9b8a4f3e2d1c0b9a8f7e6d5c']]);
    expect(m.contentLength).toBe(0);
  });

  it('a REGISTER through an edge proxy: two Vias, Path on two lines, received/rport', () => {
    const m = request(pathRegister);
    expect(m.via.map((v) => v.host)).toEqual(['edge1.example.com', '203.0.113.50']);
    expect(m.via[1]!.params).toEqual([['received', '198.51.100.77'], ['rport', '40123'], ['branch', 'z9hG4bKue1']]);
    expect(m.path.map((p) => p.uriText)).toEqual(['sip:term@edge1.example.com;lr;ob', 'sip:edge2.example.com;lr', 'sip:edge3.example.com;lr']);
    expect(sipUri(m.path[0]).params).toEqual([['lr', null], ['ob', null]]);
    expect(m.maxForwards).toBe(69);
    const c = (m.contact as NameAddr[])[0]!;
    expect(c.params).toEqual([['reg-id', '2'], ['+sip.instance', '"<urn:uuid:11111111-2222-3333-4444-555555555555>"'], ['expires', '1800']]);
  });

  it('compact header forms expand to their long names', () => {
    const m = request(compactRegister);
    expect(m.headers.map((h) => h.name)).toEqual(['via', 'from', 'to', 'call-id', 'cseq', 'contact', 'supported', 'content-length']);
    expect(m.via[0]!.host).toBe('203.0.113.7');
    expect(m.callId).toBe('compact-1@203.0.113.7');
    expect(m.supported).toEqual(['outbound']);
    expect((m.contact as NameAddr[])[0]!.params).toEqual([['expires', '120']]);
  });

  it('folded headers become one value with a single space per fold', () => {
    const m = request(foldedRegister);
    expect(headerValue(m, 'via')).toBe('SIP/2.0/UDP 192.0.2.10:5060 ;branch=z9hG4bKfold');
    expect(m.via[0]).toMatchObject({ host: '192.0.2.10', port: 5060, params: [['branch', 'z9hG4bKfold']] });
    expect(m.from.displayName).toBe('Folded');
    expect(m.from.raw).toBe('"Folded" <sip:gina@example.com>;tag=9');
    expect(m.to.uriText).toBe('sip:gina@example.com');
    expect(m.cseq).toEqual({ seq: 5, method: 'REGISTER' });
    expect((m.contact as NameAddr[]).map((c) => c.uriText)).toEqual(['sip:gina@192.0.2.10', 'sip:gina@198.51.100.10']);
    expect((m.contact as NameAddr[])[1]!.params).toEqual([['q', '0.5']]);
  });

  it('IPv6 references in Request-URI, Via and Contact (RFC 5118)', () => {
    const m = request(ipv6Register);
    expect(m.uri).toMatchObject({ host: '2001:db8::1', hostType: 'ipv6', port: null });
    expect(m.via[0]).toMatchObject({ host: '2001:db8::23', hostType: 'ipv6', port: 5060 });
    const c = (m.contact as NameAddr[])[0]!;
    expect(sipUri(c)).toMatchObject({ user: '101', host: '2001:db8::23', hostType: 'ipv6', port: 5060 });
  });

  it('Contact: * is the wildcard', () => {
    const m = request(wildcardRegister);
    expect(m.contact).toBe('*');
    expect(m.expires).toBe(0);
  });

  it('several Contacts, comma-joined and on repeated lines, with q and expires and escapes', () => {
    const m = request(multiContactRegister);
    const cs = m.contact as NameAddr[];
    expect(cs.map((c) => c.uriText)).toEqual([
      'sip:hank@192.0.2.4', 'sip:hank@198.51.100.4:5070', 'sip:hank@203.0.113.4', 'sip:hank%20desk@192.0.2.5;transport=tcp',
    ]);
    expect(cs.map((c) => c.params)).toEqual([[['q', '0.7'], ['expires', '60']], [['q', '0.3']], [['expires', '30']], []]);
    expect(cs[1]!.displayName).toBe('Hank, Mobile');
    expect(sipUri(cs[2])).toMatchObject({ params: [] });
    expect(sipUri(cs[3]).user).toBe('hank desk');
    expect(m.headers.filter((h) => h.name === 'contact')).toHaveLength(3);
  });

  it('other requests: OPTIONS keep-alive and a reg-event SUBSCRIBE', () => {
    const o = request(optionsKeepalive);
    expect(o.method).toBe('OPTIONS');
    expect(o.contact).toEqual([]);
    expect(o.to.uriText).toBe('sip:pbx.example.com');
    const s = request(subscribeRegEvent, 'stream');
    expect(s.method).toBe('SUBSCRIBE');
    expect(headerValue(s, 'event')).toBe('reg');
    expect(s.expires).toBe(3600);
  });

  it('responses: a 401 with two challenges, a 200 with a body', () => {
    const r = response(challengeResponse);
    expect(r.status).toBe(401);
    expect(r.reason).toBe('Unauthorized');
    expect(r.to.params).toEqual([['tag', 'as7d9f']]);
    expect(r.wwwAuthenticate.map((a) => authParams(a))).toEqual([
      { realm: 'pbx.example.com', nonce: '5f3a9c1d', algorithm: 'MD5', qop: 'auth' },
      { realm: 'pbx.example.com', nonce: '6a7b8c9d', algorithm: 'SHA-256', qop: 'auth' },
    ]);
    expect(r.proxyAuthenticate).toEqual([]);
    const ok = response(okWithBody);
    expect(ok.status).toBe(200);
    expect(ok.body.toString()).toBe('hello world');
    expect(ok.contentLength).toBe(11);
  });

  it('Authorization with every Digest parameter, quoted-pairs included', () => {
    const m = request(sip([
      'REGISTER sip:example.com SIP/2.0',
      'Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKauth',
      'From: <sip:ivy@example.com>;tag=a',
      'To: <sip:ivy@example.com>',
      'Call-ID: auth-all@192.0.2.1',
      'CSeq: 2 REGISTER',
      'Authorization: Digest username="ivy", realm="example.com", nonce="n0nce", uri="sip:example.com",',
      ' response="0123456789abcdef0123456789abcdef", algorithm=SHA-256-sess, cnonce="c\\"n", opaque="op\\\\aque",',
      '  qop=auth, nc=0000000a, userhash=false',
      'Authorization: NoOneKnowsThisScheme opaque-data=here',
      'Content-Length: 0',
    ]));
    expect(m.authorization).toHaveLength(2);
    expect(authParams(m.authorization[0])).toEqual({
      username: 'ivy', realm: 'example.com', nonce: 'n0nce', uri: 'sip:example.com', response: '0123456789abcdef0123456789abcdef',
      algorithm: 'SHA-256-sess', cnonce: 'c"n', opaque: 'op\\aque', qop: 'auth', nc: '0000000a', userhash: 'false',
    });
    expect(m.authorization[1]!.scheme).toBe('NoOneKnowsThisScheme');
    expect(authParams(m.authorization[1])).toEqual({ 'opaque-data': 'here' });
  });

  it('Require and Proxy-Require option tags are lowercased, in order', () => {
    const m = request(sip([
      'OPTIONS sip:example.com SIP/2.0',
      'Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKreq',
      'From: <sip:a@example.com>;tag=a',
      'To: <sip:example.com>',
      'Call-ID: req@192.0.2.1',
      'CSeq: 1 OPTIONS',
      'Require: nothingSupportsThis, 100rel',
      'Require: Path',
      'Proxy-Require: noProxiesSupportThis',
      'Content-Length: 0',
    ]));
    expect(m.require).toEqual(['nothingsupportsthis', '100rel', 'path']);
    expect(m.proxyRequire).toEqual(['noproxiessupportthis']);
  });

  it('bare LF line ends and leading CRLFs are tolerated', () => {
    const text = 'REGISTER sip:example.com SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKlf\nFrom: <sip:a@example.com>;tag=1\nTo: <sip:a@example.com>\nCall-ID: lf@192.0.2.1\nCSeq: 1 REGISTER\nContent-Length: 4\n\nbody';
    const m = request(Buffer.from(`\r\n\r\n${text}`));
    expect(m.callId).toBe('lf@192.0.2.1');
    expect(m.body.toString()).toBe('body');
    expect(m.raw.toString()).toBe(text);
  });

  it('a datagram without Content-Length carries the rest of the datagram as body; extra bytes after a declared body are ignored', () => {
    const head = [
      'MESSAGE sip:a@example.com SIP/2.0', 'Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKm', 'From: <sip:b@example.com>;tag=1',
      'To: <sip:a@example.com>', 'Call-ID: m@192.0.2.1', 'CSeq: 1 MESSAGE',
    ];
    const noLength = request(sip(head, 'Hello!'));
    expect(noLength.body.toString()).toBe('Hello!');
    expect(noLength.contentLength).toBe(6);
    const shorter = request(sip([...head, 'Content-Length: 5'], 'Hello!trailing noise'));
    expect(shorter.body.toString()).toBe('Hello');
    expect(shorter.raw.toString().endsWith('\r\n\r\nHello')).toBe(true);
  });

  it('UTF-8 display names survive', () => {
    const m = request(sip([
      'REGISTER sip:example.com SIP/2.0',
      'Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKutf',
      'From: "Zoë Müller 日本" <sip:zoe@example.com>;tag=1',
      'To: <sip:zoe@example.com>',
      'Call-ID: utf@192.0.2.1',
      'CSeq: 1 REGISTER',
      'Content-Length: 0',
    ]));
    expect(m.from.displayName).toBe('Zoë Müller 日本');
  });

  it('echoOf copies what a response needs', () => {
    const m = request(pathRegister);
    expect(echoOf(m)).toEqual({
      method: 'REGISTER',
      via: m.via,
      from: '<sip:frank@example.com>;tag=f1',
      to: '<sip:frank@example.com>',
      toTag: null,
      callId: 'path-1@203.0.113.50',
      cseq: '7 REGISTER',
    });
  });
});

/** A valid REGISTER to break one piece at a time. */
const base = [
  'REGISTER sip:pbx.example.com SIP/2.0',
  'Via: SIP/2.0/UDP 192.168.1.23:5062;branch=z9hG4bKbase',
  'From: <sip:101@pbx.example.com>;tag=f',
  'To: <sip:101@pbx.example.com>',
  'Call-ID: base@192.168.1.23',
  'CSeq: 1 REGISTER',
  'Contact: <sip:101@192.168.1.23:5062>',
  'Content-Length: 0',
];

function without(name: string): string[] {
  return base.filter((l) => !l.startsWith(`${name}:`));
}

function replaced(name: string, line: string): string[] {
  return base.map((l) => (l.startsWith(`${name}:`) ? line : l));
}

describe('malformed messages give a SipParseError with the status to answer', () => {
  const cases: Array<[title: string, buf: Buffer, status: number, reason: string, echo: boolean]> = [
    ['missing CSeq', sip(without('CSeq')), 400, 'missing CSeq header', false],
    ['missing Call-ID', sip(without('Call-ID')), 400, 'missing Call-ID header', false],
    ['missing From', sip(without('From')), 400, 'missing From header', false],
    ['missing To', sip(without('To')), 400, 'missing To header', false],
    ['missing Via', sip(without('Via')), 400, 'missing Via header', false],
    ['CSeq method differs from the request method', sip(replaced('CSeq', 'CSeq: 1 INVITE')), 400, 'CSeq method INVITE does not match the request method REGISTER', true],
    ['CSeq number above 2**32-1', sip(replaced('CSeq', 'CSeq: 4294967296 REGISTER')), 400, 'CSeq number above 2**32-1', true],
    ['CSeq without a method', sip(replaced('CSeq', 'CSeq: 1')), 400, 'malformed CSeq header', true],
    ['SIP/3.0 request', sip(['REGISTER sip:pbx.example.com SIP/3.0', ...base.slice(1)]), 505, 'unsupported SIP version', true],
    ['HTTP request line', sip(['GET / HTTP/1.1', 'Host: example.com']), 400, 'malformed request line', false],
    ['non-numeric Content-Length', sip(replaced('Content-Length', 'Content-Length: zero')), 400, 'malformed Content-Length header', true],
    ['negative Content-Length', sip(replaced('Content-Length', 'Content-Length: -1')), 400, 'malformed Content-Length header', true],
    ['huge Content-Length', sip(replaced('Content-Length', 'Content-Length: 99999999999999999999')), 400, 'Content-Length out of range', true],
    ['Content-Length larger than the body', sip(replaced('Content-Length', 'Content-Length: 100'), 'short'), 400, 'Content-Length 100 exceeds the 5 body bytes received', true],
    ['duplicate To', sip([...base.slice(0, 4), 'To: <sip:other@pbx.example.com>', ...base.slice(4)]), 400, 'more than one To header', true],
    ['duplicate Content-Length', sip([...base, 'Content-Length: 0']), 400, 'more than one Content-Length header', true],
    ['duplicate Expires', sip([...base, 'Expires: 60', 'Expires: 3600']), 400, 'more than one Expires header', true],
    ['duplicate Max-Forwards', sip([...base, 'Max-Forwards: 70', 'Max-Forwards: 69']), 400, 'more than one Max-Forwards header', true],
    ['Max-Forwards above 255', sip([...base, 'Max-Forwards: 256']), 400, 'Max-Forwards above 255', true],
    ['non-numeric Expires', sip([...base, 'Expires: soon']), 400, 'malformed Expires header', true],
    ['unterminated quote in From', sip(replaced('From', 'From: "Alice <sip:101@pbx.example.com>;tag=f')), 400, 'malformed From header', true],
    ['bad Request-URI', sip(['REGISTER sip:user@ SIP/2.0', ...base.slice(1)]), 400, 'malformed Request-URI', true],
    ['IPv6 Request-URI without brackets', sip(['REGISTER sip:2001:db8::10 SIP/2.0', ...base.slice(1)]), 400, 'malformed Request-URI', true],
    ['bad Contact URI', sip(replaced('Contact', 'Contact: <sip:101@192.168.1.23:99999>')), 400, 'malformed Contact header', true],
    ['empty element in a Contact list', sip(replaced('Contact', 'Contact: <sip:a@192.0.2.1>, , <sip:b@192.0.2.1>')), 400, 'malformed Contact header', true],
    ['Contact: * together with a contact', sip([...base, 'Contact: *']), 400, 'Contact: * mixed with other contacts', true],
    ['Via without sent-by', sip(replaced('Via', 'Via: SIP/2.0/UDP')), 400, 'malformed Via header', false],
    ['Call-ID with a space', sip(replaced('Call-ID', 'Call-ID: two words')), 400, 'malformed Call-ID header', true],
    ['header line without a colon', sip([...base.slice(0, 2), 'Foobar roobar', ...base.slice(2)]), 400, 'malformed header line', true],
    ['folded line right after the start line', sip([base[0]!, ' continued', ...base.slice(1)]), 400, 'folded line without a header to continue', true],
    ['Digest Authorization naming a parameter twice', sip([...base, 'Authorization: Digest username="a", username="b", realm="r"']), 400, 'malformed Authorization header', true],
    ['NUL inside a header value', sip(replaced('Call-ID', 'Call-ID: base\u0000@192.168.1.23')), 400, 'NUL byte in the header section', false],
    ['only NUL bytes', Buffer.alloc(64), 400, 'truncated message: the header section has no end', false],
    ['a TLS ClientHello on the plain port', Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 0x0d, 0x0a, 0x0d, 0x0a]), 400, 'NUL byte in the header section', false],
    ['garbage bytes', Buffer.from([0xff, 0xfe, 0x41, 0x7f, 0x20, 0x80, 0x0d, 0x0a, 0x3a, 0x3a, 0x0d, 0x0a, 0x0d, 0x0a]), 400, 'malformed request line', false],
    ['empty buffer', Buffer.alloc(0), 400, 'empty message', false],
    ['only line breaks', Buffer.from('\r\n\r\n'), 400, 'no message, only line breaks', false],
    ['truncated in the middle of a header', Buffer.from(base.join('\r\n').slice(0, base.join('\r\n').indexOf('Contact') + 12)), 400, 'truncated message: the header section has no end', true],
    ['status code above 699', sip(['SIP/2.0 4294967301 better not break the receiver', ...base.slice(1)]), 400, 'malformed status code', false],
    ['status code below 100', sip(['SIP/2.0 099 Odd', ...base.slice(1)]), 400, 'status code out of range', false],
  ];

  for (const [title, buf, status, reason, echo] of cases) {
    it(`${status} for ${title}`, () => {
      const e = failure(buf);
      expect(e.status).toBe(status);
      expect(e.reason).toBe(reason);
      expect(e.echo !== null).toBe(echo);
    });
  }

  it('on a stream, Content-Length is mandatory and the buffer must be exactly one message', () => {
    const noLength = failure(sip(without('Content-Length')), 'stream');
    expect(noLength).toMatchObject({ status: 400, reason: 'missing Content-Length (mandatory on stream transports)' });
    expect(noLength.echo).not.toBeNull();
    expect(failure(sip(base, 'x'), 'stream').reason).toBe('bytes after the body declared by Content-Length');
    expect(parseMessage(sip(without('Content-Length')), 'datagram').kind).toBe('request');
  });

  it('513 for a message above the maximum size, still answerable', () => {
    const big = sip([...base.slice(0, -1), `Content-Length: 70000`], 'x'.repeat(70000));
    const e = failure(big);
    expect(e).toMatchObject({ status: 513, reason: 'message larger than 65535 bytes' });
    expect(e.echo?.callId).toBe('base@192.168.1.23');
    expect(parseMessage(big, 'datagram', { maxMessageSize: 100_000 }).kind).toBe('request');
  });

  it('the echo of a broken request holds the raw values and the top Via', () => {
    const e = failure(sip(replaced('CSeq', 'CSeq: 1 INVITE')));
    expect(e.echo).toEqual({
      method: 'REGISTER',
      via: [expect.objectContaining({ host: '192.168.1.23', port: 5062, raw: 'SIP/2.0/UDP 192.168.1.23:5062;branch=z9hG4bKbase' })],
      from: '<sip:101@pbx.example.com>;tag=f',
      to: '<sip:101@pbx.example.com>',
      toTag: null,
      callId: 'base@192.168.1.23',
      cseq: '1 INVITE',
    });
  });

  it('a Via with empty parameters is salvaged for the 400, without the empty ones', () => {
    const e = failure(sip(replaced('Via', 'Via: SIP/2.0/UDP 192.0.2.15;;,;,,')));
    expect(e.reason).toBe('malformed Via header');
    expect(e.echo?.via).toHaveLength(1);
    expect(e.echo?.via[0]).toMatchObject({ host: '192.0.2.15', params: [] });
  });

  it('never throws, whatever the bytes', () => {
    const valid = sip(base);
    let seed = 12345;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (let i = 0; i < 3000; i++) {
      const b = Buffer.from(valid);
      const flips = 1 + (rnd() % 6);
      for (let f = 0; f < flips; f++) b[rnd() % b.length] = rnd() % 256;
      const cut = rnd() % 4 === 0 ? b.subarray(0, rnd() % b.length) : b;
      const m: SipMessage | SipParseError = parseMessage(cut, rnd() % 2 === 0 ? 'datagram' : 'stream');
      expect(['request', 'response', 'parse-error']).toContain(m.kind);
    }
  });
});
