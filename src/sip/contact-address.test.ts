import { describe, expect, it } from 'vitest';
import { contactHostPort } from './contact-address.js';

describe('contactHostPort', () => {
  it.each([
    ['sip:1001@10.0.0.5:5062;transport=udp', '10.0.0.5', 5062],
    ['sip:1001@10.0.0.5', '10.0.0.5', null],
    ['sip:1001@10.0.0.5:5060', '10.0.0.5', 5060],
    ['sip:10.0.0.5:5070', '10.0.0.5', 5070],
    ['sip:10.0.0.5', '10.0.0.5', null],
    ['sip:pbx.example.com;transport=tcp', 'pbx.example.com', null],
    ['sip:1001:secret@10.0.0.5:5060', '10.0.0.5', 5060],
    ['sip:1001@10.0.0.5;transport=tcp;ob', '10.0.0.5', null],
    ['sip:1001@10.0.0.5:5062;transport=udp;expires=3600', '10.0.0.5', 5062],
    ['sip:1001@10.0.0.5?X-Header=1', '10.0.0.5', null],
    ['sip:1001@10.0.0.5:5062?X-Header=1&Y=2', '10.0.0.5', 5062],
    ['sips:1001@phone.example.com:5061', 'phone.example.com', 5061],
    ['sips:[2001:db8::7]', '2001:db8::7', null],
    ['sip:1001@[2001:db8::1]:5070', '2001:db8::1', 5070],
    ['sip:1001@[2001:db8::1]:5070;transport=tcp', '2001:db8::1', 5070],
    ['sip:1001@[2001:db8::1];transport=tcp', '2001:db8::1', null],
    ['sip:[::1]:5060', '::1', 5060],
    ['sip:1001@[fe80::1%25eth0]:5060', 'fe80::1%25eth0', 5060],
  ])('%s → host %s, port %s', (uri, host, port) => {
    expect(contactHostPort(uri)).toEqual({ host, port });
  });

  it('lower-cases the host (host names and IPv6 hex digits compare without case)', () => {
    expect(contactHostPort('SIP:1001@PBX.Example.COM:5060')).toEqual({ host: 'pbx.example.com', port: 5060 });
    expect(contactHostPort('sip:1001@[2001:DB8::A]')).toEqual({ host: '2001:db8::a', port: null });
  });

  it('a user part in capitals does not touch the host', () => {
    expect(contactHostPort('sip:Alice@10.0.0.5')).toEqual({ host: '10.0.0.5', port: null });
  });

  it('reads a URI still in angle brackets up to the closing bracket', () => {
    expect(contactHostPort('<sip:1001@10.0.0.5:5062>')).toEqual({ host: '10.0.0.5', port: 5062 });
    expect(contactHostPort('<sip:1001@10.0.0.5>;expires=60')).toEqual({ host: '10.0.0.5', port: null });
  });

  it('gives no port for a port that is out of range or missing after the colon', () => {
    expect(contactHostPort('sip:1001@10.0.0.5:0')).toEqual({ host: '10.0.0.5', port: null });
    expect(contactHostPort('sip:1001@10.0.0.5:65536')).toEqual({ host: '10.0.0.5', port: null });
    expect(contactHostPort('sip:1001@10.0.0.5:')).toEqual({ host: '10.0.0.5', port: null });
    expect(contactHostPort('sip:1001@10.0.0.5:abc')).toEqual({ host: '10.0.0.5', port: null });
    expect(contactHostPort('sip:1001@10.0.0.5:65535')).toEqual({ host: '10.0.0.5', port: 65535 });
    expect(contactHostPort('sip:1001@10.0.0.5:1')).toEqual({ host: '10.0.0.5', port: 1 });
  });

  it.each([
    ['no scheme at all', 'garbage'],
    ['empty', ''],
    ['nothing after the scheme', 'sip:'],
    ['nothing after the @', 'sip:1001@'],
    ['parameters but no host', 'sip:1001@;transport=udp'],
    ['an IPv6 address never closed', 'sip:1001@[2001:db8::1'],
    ['an IPv6 bracket closed only in the parameters', 'sip:1001@[2001:db8::1;x=]'],
  ])('gives null for %s', (_what, uri) => {
    expect(contactHostPort(uri)).toBeNull();
  });

  // RFC 3261 allows ';' and '?' in the user part (telephone-subscriber users such as
  // `+4930123;phone-context=example.com`).
  it('finds the host after a user part holding ; or ? (RFC 3261 user-unreserved)', () => {
    expect(contactHostPort('sip:+15551234;phone-context=example.com@10.0.0.5:5060;user=phone')).toEqual({ host: '10.0.0.5', port: 5060 });
    expect(contactHostPort('sip:a?b@10.0.0.5')).toEqual({ host: '10.0.0.5', port: null });
  });

  // A tel: contact (which the registrar stores) has no host to show or filter by.
  it('gives null for a URI that is not SIP or SIPS', () => {
    expect(contactHostPort('tel:+15551234')).toBeNull();
    expect(contactHostPort('mailto:1001@example.com')).toBeNull();
  });
});
