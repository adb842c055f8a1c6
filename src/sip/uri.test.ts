import { describe, expect, it } from 'vitest';
import type { SipUri, Uri } from './message.js';
import { aorOf, formatUri, parseUri, uriEquals } from './uri.js';

function must(text: string): Uri {
  const u = parseUri(text);
  if (u === null) throw new Error(`did not parse: ${text}`);
  return u;
}

describe('parseUri', () => {
  it('splits a SIP URI into user, password, host, port, params and headers', () => {
    expect(parseUri('sip:alice:secret@Atlanta.COM:5061;transport=TCP;lr?subject=project%20x&priority=urgent')).toEqual({
      scheme: 'sip', user: 'alice', password: 'secret', host: 'atlanta.com', hostType: 'domain', port: 5061,
      params: [['transport', 'TCP'], ['lr', null]],
      headers: [['subject', 'project%20x'], ['priority', 'urgent']],
    });
  });

  it('lowercases the scheme and knows sips and tel', () => {
    expect(must('SIPS:bob@biloxi.com').scheme).toBe('sips');
    expect(parseUri('tel:+1-201-555-0123;phone-context=example.com')).toEqual({
      scheme: 'tel', number: '+1-201-555-0123', params: [['phone-context', 'example.com']],
    });
    expect(parseUri('tel:7042;phone-context=+1-201')).toMatchObject({ number: '7042' });
  });

  it('keeps other absolute URIs opaque', () => {
    expect(parseUri('urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6')).toEqual({ scheme: 'urn', rest: 'uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6' });
    expect(parseUri('mailto:alice@example.com')).toEqual({ scheme: 'mailto', rest: 'alice@example.com' });
  });

  it('decodes %HH escapes of the user part once, never recursively', () => {
    expect((must('sip:%61lice@atlanta.com') as SipUri).user).toBe('alice');
    expect((must('sip:a%2541@example.com') as SipUri).user).toBe('a%41');
    expect((must('sip:null-%00-null@example.com') as SipUri).user).toBe('null-\u0000-null');
    expect((must('sip:%E4%BD%A0@example.com') as SipUri).user).toBe('\u00e4\u00bd\u00a0');
  });

  it('reads IPv4, IPv6 references (RFC 5118) and host names', () => {
    expect(must('sip:192.0.2.4:5060')).toMatchObject({ host: '192.0.2.4', hostType: 'ipv4', port: 5060 });
    expect(must('sip:[2001:DB8::10]:5070')).toMatchObject({ host: '2001:db8::10', hostType: 'ipv6', port: 5070 });
    expect(must('sip:[2001:db8::10:5070]')).toMatchObject({ host: '2001:db8::10:5070', port: null });
    expect(must('sip:user@[::ffff:192.0.2.2]')).toMatchObject({ host: '::ffff:192.0.2.2', hostType: 'ipv6' });
    expect(must('sip:user@[2001:db8:::192.0.2.1]')).toMatchObject({ hostType: 'ipv6' });
    expect(must('sip:[::1]')).toMatchObject({ host: '::1' });
    expect(must('sip:example.com.')).toMatchObject({ host: 'example.com.', hostType: 'domain' });
  });

  const bad = [
    'sip:', 'sip:user@', 'sip:@example.com', 'sip:2001:db8::10', 'sip:[2001:db8::10', 'sip:[2001:db8:::10:1::2]',
    'sip:[1:2:3:4:5:6:7:8:9]', 'sip:[12345::1]', 'sip:host:', 'sip:host:65536', 'sip:host:12a', 'sip:ex ample.com',
    'sip:a..b', 'sip:256.1.1.1', 'sip:123', 'sip:user@host;', 'sip:user@host;=x', 'sip:host?x', 'sip:us%zzer@host',
    'sip:us"er@host', '<sip:user@host>', 'tel:', 'tel:+1 201', 'nocolon', ':x', '1x:y', 'x:', 'http:// spaces',
  ];
  for (const text of bad) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      expect(parseUri(text)).toBeNull();
    });
  }
});

describe('formatUri', () => {
  it('writes the canonical form: lowercase host, user escaped only where needed', () => {
    expect(formatUri(must('SIP:%61lice@AtLanTa.CoM;Transport=tcp'))).toBe('sip:alice@atlanta.com;transport=tcp');
    expect(formatUri(must('sip:sips%3Auser%40example.com@example.net'))).toBe('sip:sips%3Auser%40example.com@example.net');
    expect(formatUri(must('sip:I%20have%20spaces@example.net'))).toBe('sip:I%20have%20spaces@example.net');
    expect(formatUri(must('sip:user;par=u%40example.net@example.com'))).toBe('sip:user;par=u%40example.net@example.com');
    expect(formatUri(must('sip:a:p%40ss@[2001:db8::1]:5060?h=v'))).toBe('sip:a:p%40ss@[2001:db8::1]:5060?h=v');
    expect(formatUri(must('tel:+1-201-555-0123'))).toBe('tel:+1-201-555-0123');
    expect(formatUri(must('urn:uuid:abc'))).toBe('urn:uuid:abc');
  });

  it('round-trips through parseUri', () => {
    for (const text of ['sip:alice@atlanta.com', 'sips:bob:pw@[::1]:5061;transport=tls;lr', 'sip:%00%00@host5.example.com']) {
      expect(parseUri(formatUri(must(text)))).toEqual(must(text));
    }
  });
});

describe('uriEquals follows RFC 3261 §19.1.4', () => {
  const equal: Array<[string, string]> = [
    ['sip:%61lice@atlanta.com;transport=TCP', 'sip:alice@AtLanTa.CoM;Transport=tcp'],
    ['sip:carol@chicago.com', 'sip:carol@chicago.com;newparam=5'],
    ['sip:carol@chicago.com', 'sip:carol@chicago.com;security=on'],
    ['sip:carol@chicago.com;newparam=5', 'sip:carol@chicago.com;security=on'],
    ['sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com', 'sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com'],
    ['sip:alice@atlanta.com?subject=project%20x&priority=urgent', 'sip:alice@atlanta.com?priority=urgent&subject=project%20x'],
    ['tel:+1-201-555-0123', 'tel:+12015550123'],
  ];
  const different: Array<[string, string]> = [
    ['SIP:ALICE@AtLanTa.CoM;Transport=udp', 'sip:alice@AtLanTa.CoM;Transport=UDP'],
    ['sip:bob@biloxi.com', 'sip:bob@biloxi.com:5060'],
    ['sip:bob@biloxi.com', 'sip:bob@biloxi.com;transport=udp'],
    ['sip:bob@biloxi.com', 'sip:bob@biloxi.com:6000;transport=tcp'],
    ['sip:carol@chicago.com', 'sip:carol@chicago.com?Subject=next%20meeting'],
    ['sip:bob@phone21.boxesbybob.com', 'sip:bob@192.0.2.4'],
    ['sip:carol@chicago.com;security=on', 'sip:carol@chicago.com;security=off'],
    ['sip:alice@atlanta.com', 'sips:alice@atlanta.com'],
    ['sip:alice@atlanta.com;maddr=10.0.0.1', 'sip:alice@atlanta.com'],
    ['sip:alice:pw@atlanta.com', 'sip:alice@atlanta.com'],
  ];
  for (const [a, b] of equal) {
    it(`${a} == ${b}`, () => {
      expect(uriEquals(must(a), must(b))).toBe(true);
      expect(uriEquals(must(b), must(a))).toBe(true);
    });
  }
  for (const [a, b] of different) {
    it(`${a} != ${b}`, () => {
      expect(uriEquals(must(a), must(b))).toBe(false);
      expect(uriEquals(must(b), must(a))).toBe(false);
    });
  }
});

describe('aorOf gives the address-of-record key', () => {
  it('drops port, parameters and headers, lowercases the host, keeps the user case', () => {
    expect(aorOf(must('sip:Alice@Atlanta.COM:5060;transport=tcp?x=y'))).toBe('sip:Alice@atlanta.com');
  });

  it('escaped and unescaped users give the same key', () => {
    expect(aorOf(must('sip:%61lice@atlanta.com'))).toBe(aorOf(must('sip:alice@atlanta.com')));
    expect(aorOf(must('sip:first%20last@example.com'))).toBe('sip:first%20last@example.com');
    expect(aorOf(must('sip:%00@example.com'))).not.toBe(aorOf(must('sip:%00%00@example.com')));
  });

  it('sips and sip map to one AOR; IPv6 hosts keep their brackets', () => {
    expect(aorOf(must('sips:bob@biloxi.com'))).toBe('sip:bob@biloxi.com');
    expect(aorOf(must('sip:101@[2001:DB8::1]'))).toBe('sip:101@[2001:db8::1]');
    expect(aorOf(must('sip:example.com'))).toBe('sip:example.com');
  });
});
