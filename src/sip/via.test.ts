import { describe, expect, it } from 'vitest';
import type { Via } from './message.js';
import { formatVia, parseVia, parseViaList, withReceived } from './via.js';

function one(text: string): Via {
  const v = parseVia(text);
  if (v === null) throw new Error(`did not parse: ${text}`);
  return v;
}

describe('parseVia', () => {
  it('reads sent-protocol, sent-by and params', () => {
    expect(parseVia('SIP/2.0/UDP 10.1.1.1:4540;received=192.0.2.1;rport=9988;branch=z9hG4bKkjshdyff;maddr=224.2.0.1;ttl=16')).toEqual({
      protocol: 'SIP/2.0', transport: 'UDP', host: '10.1.1.1', hostType: 'ipv4', port: 4540,
      params: [['received', '192.0.2.1'], ['rport', '9988'], ['branch', 'z9hG4bKkjshdyff'], ['maddr', '224.2.0.1'], ['ttl', '16']],
      raw: 'SIP/2.0/UDP 10.1.1.1:4540;received=192.0.2.1;rport=9988;branch=z9hG4bKkjshdyff;maddr=224.2.0.1;ttl=16',
    });
  });

  it('allows LWS around the slashes and the colon, and uppercases the transport', () => {
    expect(one('SIP  /   2.0 / tcp   Spindle.Example.COM : 5070  ;  branch  =   z9hG4bK9ikj8')).toMatchObject({
      protocol: 'SIP/2.0', transport: 'TCP', host: 'spindle.example.com', hostType: 'domain', port: 5070, params: [['branch', 'z9hG4bK9ikj8']],
    });
    expect(one('SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKabc').transport).toBe('WSS');
  });

  it('reads IPv6 sent-by and received with or without brackets (RFC 5118 §4.5)', () => {
    expect(one('SIP/2.0/UDP [2001:db8::9:1]:6050;received=2001:db8::9:255;branch=z9hG4bKas3')).toMatchObject({
      host: '2001:db8::9:1', hostType: 'ipv6', port: 6050, params: [['received', '2001:db8::9:255'], ['branch', 'z9hG4bKas3']],
    });
    expect(one('SIP/2.0/UDP [2001:db8::9:1];received=[2001:db8::9:255]').params).toEqual([['received', '[2001:db8::9:255]']]);
  });

  const bad = ['', 'SIP/2.0/UDP', 'SIP/2.0 UDP host', 'SIP/2.0/UDP host:', 'SIP/2.0/UDP host:70000', 'SIP/2.0/UDP host;', 'SIP/2.0/UDPhost', 'SIP/2.0/UDP [::1', 'SIP/2.0/UDP ho st'];
  for (const text of bad) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      expect(parseVia(text)).toBeNull();
    });
  }
});

describe('parseViaList', () => {
  it('splits a comma list into via-parms, each with its raw text', () => {
    const out: Via[] = [];
    expect(parseViaList('SIP/2.0/UDP a.example;branch=z9hG4bK1 , SIP/2.0/TCP b.example:5061;branch=z9hG4bK2', out)).toBe(true);
    expect(out.map((v) => v.raw)).toEqual(['SIP/2.0/UDP a.example;branch=z9hG4bK1', 'SIP/2.0/TCP b.example:5061;branch=z9hG4bK2']);
  });

  it('rejects empty elements unless salvaging leniently', () => {
    expect(parseViaList('SIP/2.0/UDP 192.0.2.15;;,;,,', [])).toBe(false);
    const out: Via[] = [];
    expect(parseViaList('SIP/2.0/UDP 192.0.2.15;;,;,,', out, 0, undefined, true)).toBe(true);
    expect(out).toHaveLength(1);
  });
});

describe('withReceived', () => {
  const top = one('SIP/2.0/UDP 10.1.1.1:4540;rport;branch=z9hG4bKkjshdyff');

  it('fills the empty rport and adds received, in a new Via with a new raw', () => {
    const v = withReceived(top, '192.0.2.1', 9988, false);
    expect(v.params).toEqual([['rport', '9988'], ['branch', 'z9hG4bKkjshdyff'], ['received', '192.0.2.1']]);
    expect(v.raw).toBe('SIP/2.0/UDP 10.1.1.1:4540;rport=9988;branch=z9hG4bKkjshdyff;received=192.0.2.1');
    expect(top.params).toEqual([['rport', null], ['branch', 'z9hG4bKkjshdyff']]);
  });

  it('fills a last, empty rport in the text as written (most phones put it there), and the result reads back the same', () => {
    for (const [given, expected] of [
      ['SIP/2.0/UDP 10.1.1.1:4540;branch=z9hG4bK1;rport', 'SIP/2.0/UDP 10.1.1.1:4540;branch=z9hG4bK1;rport=9988;received=192.0.2.1'],
      ['SIP/2.0/UDP 10.1.1.1:4540;branch=z9hG4bK1;RPort', 'SIP/2.0/UDP 10.1.1.1:4540;branch=z9hG4bK1;RPort=9988;received=192.0.2.1'],
      // Not the plain spelling: the parameters are written out again.
      ['SIP/2.0/UDP 10.1.1.1:4540;branch=z9hG4bK1 ; rport', 'SIP/2.0/UDP 10.1.1.1:4540;branch=z9hG4bK1;rport=9988;received=192.0.2.1'],
      ['SIP/2.0/UDP 10.1.1.1:4540;branch=z9hG4bK1;rport=1234', 'SIP/2.0/UDP 10.1.1.1:4540;branch=z9hG4bK1;rport=9988;received=192.0.2.1'],
    ] as const) {
      const given1 = one(given);
      const v = withReceived(given1, '192.0.2.1', 9988, true);
      expect(v.raw).toBe(expected);
      expect(v.params).toEqual([['branch', 'z9hG4bK1'], ['rport', '9988'], ['received', '192.0.2.1']]);
      expect(parseVia(v.raw)).toEqual(v);
      expect(given1.params.at(-1)![0]).toBe('rport');
    }
  });

  it('adds rport only when asked or requested', () => {
    const plain = one('SIP/2.0/UDP 10.1.1.1;branch=z9hG4bK1');
    expect(withReceived(plain, '192.0.2.1', 5060, false).params).toEqual([['branch', 'z9hG4bK1'], ['received', '192.0.2.1']]);
    expect(withReceived(plain, '192.0.2.1', 5060, true).params).toEqual([['branch', 'z9hG4bK1'], ['received', '192.0.2.1'], ['rport', '5060']]);
  });

  it('replaces an existing received instead of duplicating it; IPv6 without brackets', () => {
    const v = withReceived(one('SIP/2.0/UDP [2001:db8::1];received=198.51.100.1;branch=z9hG4bK1'), '[2001:db8::99]', 5062, true);
    expect(v.params).toEqual([['received', '2001:db8::99'], ['branch', 'z9hG4bK1'], ['rport', '5062']]);
    expect(v.raw).toBe('SIP/2.0/UDP [2001:db8::1];received=2001:db8::99;branch=z9hG4bK1;rport=5062');
    expect(parseVia(v.raw)).toEqual(v);
  });
});

describe('formatVia', () => {
  it('writes the canonical text', () => {
    expect(formatVia(one('SIP / 2.0 / udp  Host.Example : 5060 ; branch = z9hG4bK1 ; rport'))).toBe('SIP/2.0/UDP host.example:5060;branch=z9hG4bK1;rport');
  });
});
