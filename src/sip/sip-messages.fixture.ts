// SIP messages as real phones and softphones send them, shared by the sip/ tests. Each is
// written the way the vendor writes it (header order, spacing, parameter style); addresses
// are documentation ranges or RFC 1918, credentials are made up.

/** Joins header lines with CRLF and ends the header section; the body follows verbatim. */
export function sip(lines: readonly string[], body = ''): Buffer {
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`, 'utf8');
}

export const yealinkRegister = sip([
  'REGISTER sip:pbx.example.com:5060 SIP/2.0',
  'Via: SIP/2.0/UDP 192.168.1.23:5062;branch=z9hG4bK1426785432',
  'From: "101" <sip:101@pbx.example.com:5060>;tag=2846183930',
  'To: "101" <sip:101@pbx.example.com:5060>',
  'Call-ID: 0_2948573619@192.168.1.23',
  'CSeq: 1 REGISTER',
  'Contact: <sip:101@192.168.1.23:5062>',
  'Allow: INVITE, INFO, PRACK, ACK, BYE, CANCEL, OPTIONS, NOTIFY, REGISTER, SUBSCRIBE, REFER, PUBLISH, UPDATE, MESSAGE',
  'Max-Forwards: 70',
  'User-Agent: Yealink SIP-T46S 66.86.0.15',
  'Expires: 3600',
  'Allow-Events: talk,hold,conference,refer,check-sync',
  'Content-Length: 0',
]);

export const polycomRegister = sip([
  'REGISTER sip:voip.example.net SIP/2.0',
  'Via: SIP/2.0/TCP 10.0.0.51:5060;branch=z9hG4bK9c2d1a8e6C3D61F3;rport',
  'From: "Bob Smith" <sip:2001@voip.example.net>;tag=7A3B2C1D-4E5F6A7B',
  'To: <sip:2001@voip.example.net>',
  'CSeq: 2 REGISTER',
  'Call-ID: 3f9b0c2a-8d41e7f6-1a2b3c4d@10.0.0.51',
  'Contact: <sip:2001@10.0.0.51:5060;transport=tcp>;methods="INVITE,ACK,BYE,CANCEL,OPTIONS,INFO,MESSAGE,SUBSCRIBE,NOTIFY,PRACK,UPDATE,REFER";+sip.instance="<urn:uuid:a8d4f1c2-0b9e-5d7a-8c3f-0004f2a1b2c3>";reg-id=1',
  'User-Agent: PolycomVVX-VVX_411-UA/6.3.1.8427',
  'Accept-Language: en',
  'Supported: path,outbound,gruu',
  'Authorization: Digest username="2001", realm="voip.example.net", nonce="Y2xvdWQtbm9uY2UtMTIzNDU2", qop=auth, cnonce="aBcDeFgH", nc=00000001, opaque="c2VydmVyLW9wYXF1ZQ==", uri="sip:voip.example.net", response="5b1e0c4a9d3f2e7b8a6c4d2e1f0a9b8c", algorithm=MD5',
  'Max-Forwards: 70',
  'Expires: 300',
  'Content-Length: 0',
]);

export const grandstreamRegister = sip([
  'REGISTER sip:sip.example.com SIP/2.0',
  'Via: SIP/2.0/UDP 192.168.0.105:5060;branch=z9hG4bK1618813591;rport',
  'From: <sip:3001@sip.example.com>;tag=1394618390',
  'To: <sip:3001@sip.example.com>',
  'Call-ID: 1093855405-5060-1@BA.BAA.A.BAF',
  'CSeq: 2033 REGISTER',
  'Contact: <sip:3001@192.168.0.105:5060>;reg-id=1;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000B82A1B2C3>"',
  'Authorization: Digest username="3001", realm="sip.example.com", nonce="1700000000:abcdef0123456789", uri="sip:sip.example.com", response="0123456789abcdef0123456789abcdef", algorithm=MD5',
  'Max-Forwards: 70',
  'User-Agent: Grandstream GXP2170 1.0.11.23',
  'Supported: path',
  'Expires: 3600',
  'Allow: INVITE, ACK, OPTIONS, CANCEL, BYE, SUBSCRIBE, NOTIFY, INFO, REFER, UPDATE, MESSAGE',
  'Content-Length: 0',
]);

export const ciscoSpaRegister = sip([
  'REGISTER sip:pbx.example.com SIP/2.0',
  'Via: SIP/2.0/UDP 192.168.10.44:5060;branch=z9hG4bK-3c1a2b4d',
  'From: "Front Desk" <sip:200@pbx.example.com>;tag=8d4e6f1a2b3c4d5eo0',
  'To: "Front Desk" <sip:200@pbx.example.com>',
  'Call-ID: 5a6b7c8d-1e2f3a4b@192.168.10.44',
  'CSeq: 49291 REGISTER',
  'Max-Forwards: 70',
  'Contact: "Front Desk" <sip:200@192.168.10.44:5060>;expires=3600',
  'User-Agent: Cisco/SPA504G-7.6.2c',
  'Content-Length: 0',
  'Allow: ACK, BYE, CANCEL, INFO, INVITE, NOTIFY, OPTIONS, REFER, UPDATE',
  'Supported: replaces',
]);

export const snomRegister = sip([
  'REGISTER sips:sip.example.com SIP/2.0',
  'Via: SIP/2.0/TLS 10.1.2.3:49721;branch=z9hG4bK-vjm4v1hbd0x1;rport',
  'From: "Snom 735" <sips:4711@sip.example.com>;tag=4r2nvdkl9p',
  'To: "Snom 735" <sips:4711@sip.example.com>',
  'Call-ID: 3c26700c4a3f-6a5hzq0n1gcs',
  'CSeq: 1 REGISTER',
  'Max-Forwards: 70',
  'Contact: <sips:4711@10.1.2.3:49721;transport=tls;line=x9k2m1p0>;reg-id=1;q=1.0;+sip.instance="<urn:uuid:5d6a8b2c-1e3f-4a5b-8c7d-000413a1b2c3>";audio;mobility="fixed";duplex="full";description="snom735";actor="principal";events="dialog";methods="INVITE,ACK,CANCEL,BYE,REFER,OPTIONS,NOTIFY,SUBSCRIBE,PRACK,MESSAGE,INFO,UPDATE"',
  'User-Agent: snom735/10.1.141.13',
  'Supported: gruu',
  'Allow-Events: dialog',
  'Expires: 3600',
  'Content-Length: 0',
]);

export const zoiperRegister = sip([
  'REGISTER sip:sip.example.com;transport=UDP SIP/2.0',
  'Via: SIP/2.0/UDP 192.168.1.77:52341;branch=z9hG4bK-524287-1---5c0a1d2e3f4b5a69;rport',
  'Max-Forwards: 70',
  'Contact: <sip:alice@192.168.1.77:52341;rinstance=3f1c2b7d9e0a4c61;transport=UDP>',
  'To: <sip:alice@sip.example.com;transport=UDP>',
  'From: <sip:alice@sip.example.com;transport=UDP>;tag=8f2b1c3d',
  'Call-ID: ZTZlNWU0ODM4MGEyZjM0YjQ0ZWU2ZjJiN2I5ZTc1YzA',
  'CSeq: 2 REGISTER',
  'Expires: 60',
  'Allow: INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, MESSAGE, OPTIONS, INFO, SUBSCRIBE',
  'Supported: replaces, norefersub, extended-refer, timer, outbound, path, X-cisco-serviceuri',
  'User-Agent: Z 5.6.4 v2.10.20.2',
  'Authorization: Digest username="alice",realm="sip.example.com",nonce="0a1b2c3d4e5f",uri="sip:sip.example.com;transport=UDP",response="a1b2c3d4e5f60718293a4b5c6d7e8f90",cnonce="b6d1e2f3a4c5",nc=00000001,qop=auth,algorithm=MD5',
  'Allow-Events: presence, kpml, talk',
  'Content-Length: 0',
]);

export const linphoneRegister = sip([
  'REGISTER sip:sip.linphone.example SIP/2.0',
  'Via: SIP/2.0/TCP 192.168.1.50:43567;alias;branch=z9hG4bK.Xh2fS1wLa;rport',
  'From: <sip:dave@sip.linphone.example>;tag=kD3rY~xN1',
  'To: sip:dave@sip.linphone.example',
  'CSeq: 20 REGISTER',
  'Call-ID: oZk4bDwd2W',
  'Max-Forwards: 70',
  'Supported: replaces, outbound, gruu, path',
  'Accept: application/sdp',
  'Accept: text/plain',
  'Contact: <sip:dave@192.168.1.50:43567;transport=tcp>;+sip.instance="<urn:uuid:a7f3c1d2-9b8e-4f6a-b5c4-d3e2f1a0b9c8>";+org.linphone.specs="lime"',
  'Expires: 600',
  'User-Agent: LinphoneAndroid/4.6.0 (Pixel 6) LinphoneSDK/5.1.0',
  'Content-Length: 0',
]);

/** JsSIP 3 in a browser over secure WebSocket (RFC 7118): a `.invalid` host, `transport=ws`. */
export const jssipRegister = sip([
  'REGISTER sip:example.com SIP/2.0',
  'Via: SIP/2.0/WSS 5e1qt3v8fk1r.invalid;branch=z9hG4bK6189466',
  'Max-Forwards: 69',
  'To: <sip:alice@example.com>',
  'From: "Alice" <sip:alice@example.com>;tag=hk6o4sfl7h',
  'Call-ID: 7bopr6gff0rh6mqne4k8',
  'CSeq: 1 REGISTER',
  'Contact: <sip:v9g4f8nq@5e1qt3v8fk1r.invalid;transport=ws>;+sip.ice;reg-id=1;+sip.instance="<urn:uuid:0c4b5a6f-2c9d-4a9b-8e3e-3b1b1c9a4e1a>";expires=600',
  'Expires: 600',
  'Allow: INVITE,ACK,CANCEL,BYE,UPDATE,MESSAGE,OPTIONS,REFER,INFO,NOTIFY',
  'Supported: path,gruu,outbound',
  'User-Agent: JsSIP 3.13.8',
  'Content-Length: 0',
]);

export const microsipRegister = sip([
  'REGISTER sip:sip.example.com SIP/2.0',
  'Via: SIP/2.0/UDP 192.168.1.90:54321;rport;branch=z9hG4bKPj8f2e1d0c9b8a4f3e2d1c0b9a8f7e6d5c',
  'Max-Forwards: 70',
  'From: <sip:erin@sip.example.com>;tag=6c5b4a39f8e74d2c',
  'To: <sip:erin@sip.example.com>',
  'Call-ID: 5d4c3b2a19f84e7d6c5b4a3928f1e0d9',
  'CSeq: 53462 REGISTER',
  'User-Agent: MicroSIP/3.21.3',
  'Contact: "Erin" <sip:erin@192.168.1.90:54321;ob>',
  'Expires: 300',
  'Allow: PRACK, INVITE, ACK, BYE, CANCEL, UPDATE, INFO, SUBSCRIBE, NOTIFY, REFER, MESSAGE, OPTIONS',
  'Content-Length:  0',
]);

/** A REGISTER that crossed an edge proxy: Path (RFC 3327) and a second Via. */
export const pathRegister = sip([
  'REGISTER sip:example.com SIP/2.0',
  'Via: SIP/2.0/UDP edge1.example.com;branch=z9hG4bKedge1;received=198.51.100.1',
  'Via: SIP/2.0/UDP 203.0.113.50:5060;received=198.51.100.77;rport=40123;branch=z9hG4bKue1',
  'Path: <sip:term@edge1.example.com;lr;ob>, <sip:edge2.example.com;lr>',
  'Path: <sip:edge3.example.com;lr>',
  'Max-Forwards: 69',
  'From: <sip:frank@example.com>;tag=f1',
  'To: <sip:frank@example.com>',
  'Call-ID: path-1@203.0.113.50',
  'CSeq: 7 REGISTER',
  'Supported: path, outbound',
  'Contact: <sip:frank@203.0.113.50:5060;ob>;reg-id=2;+sip.instance="<urn:uuid:11111111-2222-3333-4444-555555555555>";expires=1800',
  'Content-Length: 0',
]);

/** Every compact form a REGISTER can use. */
export const compactRegister = sip([
  'REGISTER sip:example.org SIP/2.0',
  'v: SIP/2.0/UDP 203.0.113.7:5060;rport;branch=z9hG4bK.compact',
  'f: <sip:carol@example.org>;tag=abc',
  't: <sip:carol@example.org>',
  'i: compact-1@203.0.113.7',
  'CSeq: 20 REGISTER',
  'm: <sip:carol@203.0.113.7:5060>;expires=120',
  'k: outbound',
  'l: 0',
]);

/** Folded headers (RFC 3261 §7.3.1) and odd whitespace, as some old gateways still send them. */
export const foldedRegister = sip([
  'REGISTER sip:example.com SIP/2.0',
  'Via: SIP/2.0/UDP',
  '  192.0.2.10:5060 ;branch=z9hG4bKfold',
  'From:\t"Folded"',
  '\t<sip:gina@example.com>;tag=9',
  'To   :   <sip:gina@example.com>',
  'Call-ID: folded-1@192.0.2.10',
  'CSeq: 5',
  '   REGISTER',
  'Contact: <sip:gina@192.0.2.10>,',
  ' <sip:gina@198.51.100.10>;q=0.5',
  'Content-Length: 0',
]);

export const ipv6Register = sip([
  'REGISTER sip:[2001:db8::1] SIP/2.0',
  'Via: SIP/2.0/UDP [2001:db8::23]:5060;branch=z9hG4bK6v6;rport',
  'From: <sip:101@[2001:db8::1]>;tag=6',
  'To: <sip:101@[2001:db8::1]>',
  'Call-ID: v6-1@2001:db8::23',
  'CSeq: 1 REGISTER',
  'Contact: <sip:101@[2001:DB8::23]:5060>',
  'Content-Length: 0',
]);

/** An unregister-all (RFC 3261 §10.2.2). */
export const wildcardRegister = sip([
  'REGISTER sip:pbx.example.com SIP/2.0',
  'Via: SIP/2.0/UDP 192.168.1.23:5062;branch=z9hG4bKstar',
  'From: <sip:101@pbx.example.com>;tag=st',
  'To: <sip:101@pbx.example.com>',
  'Call-ID: star-1@192.168.1.23',
  'CSeq: 9 REGISTER',
  'Contact: *',
  'Expires: 0',
  'Content-Length: 0',
]);

/** Several contacts, comma-joined and on repeated lines, with q and expires. */
export const multiContactRegister = sip([
  'REGISTER sip:example.com SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bKmulti',
  'From: <sip:hank@example.com>;tag=m',
  'To: <sip:hank@example.com>',
  'Call-ID: multi-1@192.0.2.4',
  'CSeq: 3 REGISTER',
  'Contact: <sip:hank@192.0.2.4>;q=0.7;expires=60, "Hank, Mobile" <sip:hank@198.51.100.4:5070>;q=0.3',
  'Contact: sip:hank@203.0.113.4;expires=30',
  'Contact: <sip:hank%20desk@192.0.2.5;transport=tcp>',
  'Content-Length: 0',
]);

export const optionsKeepalive = sip([
  'OPTIONS sip:pbx.example.com SIP/2.0',
  'Via: SIP/2.0/UDP 192.168.1.23:5062;branch=z9hG4bKopt;rport',
  'From: <sip:101@pbx.example.com>;tag=o1',
  'To: <sip:pbx.example.com>',
  'Call-ID: opt-1@192.168.1.23',
  'CSeq: 100 OPTIONS',
  'Max-Forwards: 70',
  'Accept: application/sdp',
  'Content-Length: 0',
]);

export const subscribeRegEvent = sip([
  'SUBSCRIBE sip:101@pbx.example.com SIP/2.0',
  'Via: SIP/2.0/TCP 192.168.1.23:5062;branch=z9hG4bKsub',
  'From: <sip:101@pbx.example.com>;tag=s1',
  'To: <sip:101@pbx.example.com>',
  'Call-ID: sub-1@192.168.1.23',
  'CSeq: 1 SUBSCRIBE',
  'Max-Forwards: 70',
  'Event: reg',
  'Accept: application/reginfo+xml',
  'Contact: <sip:101@192.168.1.23:5062;transport=tcp>',
  'Expires: 3600',
  'Content-Length: 0',
]);

export const challengeResponse = sip([
  'SIP/2.0 401 Unauthorized',
  'Via: SIP/2.0/UDP 192.168.1.23:5062;branch=z9hG4bK1426785432;received=203.0.113.9;rport=5062',
  'From: "101" <sip:101@pbx.example.com:5060>;tag=2846183930',
  'To: "101" <sip:101@pbx.example.com:5060>;tag=as7d9f',
  'Call-ID: 0_2948573619@192.168.1.23',
  'CSeq: 1 REGISTER',
  'WWW-Authenticate: Digest realm="pbx.example.com", nonce="5f3a9c1d", algorithm=MD5, qop="auth"',
  'WWW-Authenticate: Digest realm="pbx.example.com", nonce="6a7b8c9d", algorithm=SHA-256, qop="auth"',
  'Content-Length: 0',
]);

export const okWithBody = sip([
  'SIP/2.0 200 OK',
  'Via: SIP/2.0/TCP 192.168.1.23:5062;branch=z9hG4bKnot',
  'From: <sip:pbx.example.com>;tag=n1',
  'To: <sip:101@pbx.example.com>;tag=s1',
  'Call-ID: notify-1@pbx.example.com',
  'CSeq: 2 NOTIFY',
  'Content-Type: text/plain',
  'Content-Length: 11',
], 'hello world');
