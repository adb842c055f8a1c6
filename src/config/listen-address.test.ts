import { describe, expect, it } from 'vitest';
import { formatListenAddress, isSecureTransport, parseListenAddress } from './listen-address.js';

describe('listen addresses', () => {
  it('parses tls, ws and wss like udp and tcp, IPv4 and IPv6', () => {
    expect(parseListenAddress('tls:0.0.0.0:5061')).toEqual({ transport: 'tls', host: '0.0.0.0', port: 5061 });
    expect(parseListenAddress('ws:127.0.0.1:8088')).toEqual({ transport: 'ws', host: '127.0.0.1', port: 8088 });
    expect(parseListenAddress('wss:[::1]:8089')).toEqual({ transport: 'wss', host: '::1', port: 8089 });
    expect(parseListenAddress('WSS:[2001:db8::1]:443')).toEqual({ transport: 'wss', host: '2001:db8::1', port: 443 });
    expect(parseListenAddress('TLS:[::]:0')).toEqual({ transport: 'tls', host: '::', port: 0 });
  });

  it('writes them back the same way', () => {
    for (const text of ['tls:0.0.0.0:5061', 'ws:127.0.0.1:8088', 'wss:[::1]:8089']) {
      const a = parseListenAddress(text);
      if (typeof a === 'string') throw new Error(a);
      expect(formatListenAddress(a)).toBe(text);
    }
  });

  it('names the transports it knows when given another', () => {
    expect(parseListenAddress('sctp:0.0.0.0:5060')).toBe('"sctp:0.0.0.0:5060": transport "sctp" is not one of udp, tcp, tls, ws, wss');
    expect(parseListenAddress('wss:example.com:443')).toBe('"wss:example.com:443": host "example.com" must be a numeric IPv4 or IPv6 address');
    expect(parseListenAddress('ws:127.0.0.1')).toMatch(/is not transport:host:port/);
  });

  it('knows which transports need a certificate', () => {
    expect((['udp', 'tcp', 'tls', 'ws', 'wss'] as const).filter(isSecureTransport)).toEqual(['tls', 'wss']);
  });
});
