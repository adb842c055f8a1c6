import { describe, expect, it } from 'vitest';
import { isPrivateAddress, natDetected } from './nat-detection.js';

describe('isPrivateAddress', () => {
  it.each([
    ['10.0.0.0', 'RFC 1918 10/8, first'],
    ['10.255.255.255', 'RFC 1918 10/8, last'],
    ['172.16.0.1', 'RFC 1918 172.16/12, first'],
    ['172.31.255.255', 'RFC 1918 172.16/12, last'],
    ['192.168.0.1', 'RFC 1918 192.168/16'],
    ['192.168.255.255', 'RFC 1918 192.168/16, last'],
    ['100.64.0.1', 'RFC 6598 shared space, first'],
    ['100.127.255.255', 'RFC 6598 shared space, last'],
    ['169.254.0.1', 'IPv4 link-local'],
    ['169.254.255.255', 'IPv4 link-local, last'],
    ['fc00::1', 'IPv6 ULA fc00::/7'],
    ['fd12:3456:789a::1', 'IPv6 ULA fd00::/8'],
    ['FD00::1', 'IPv6 ULA in capitals'],
    ['fe80::1', 'IPv6 link-local'],
    ['febf:ffff::1', 'IPv6 link-local, last /10'],
  ])('%s is private (%s)', (address) => {
    expect(isPrivateAddress(address)).toBe(true);
  });

  it.each([
    ['9.255.255.255', 'just below 10/8'],
    ['11.0.0.0', 'just above 10/8'],
    ['172.15.255.255', 'just below 172.16/12'],
    ['172.32.0.0', 'just above 172.16/12'],
    ['192.167.255.255', 'just below 192.168/16'],
    ['192.169.0.0', 'just above 192.168/16'],
    ['100.63.255.255', 'just below 100.64/10'],
    ['100.128.0.0', 'just above 100.64/10'],
    ['169.253.255.255', 'just below 169.254/16'],
    ['169.255.0.0', 'just above 169.254/16'],
    ['203.0.113.9', 'public IPv4'],
    ['8.8.8.8', 'public IPv4'],
    ['2001:db8::1', 'global IPv6'],
    ['2a00:1450:4001::1', 'global IPv6'],
    ['fbff:ffff::1', 'just below fc00::/7'],
    ['fe00::1', 'just above fc00::/7'],
    ['fec0::1', 'just above fe80::/10'],
    ['::1', 'IPv6 loopback is not counted'],
    ['127.0.0.1', 'IPv4 loopback is not counted'],
  ])('%s is not private (%s)', (address) => {
    expect(isPrivateAddress(address)).toBe(false);
  });

  it('a host name or garbage is not private', () => {
    expect(isPrivateAddress('pbx.example.com')).toBe(false);
    expect(isPrivateAddress('')).toBe(false);
    expect(isPrivateAddress('10.0.0.256')).toBe(false);
    expect(isPrivateAddress('[fe80::1]')).toBe(false);
  });
});

describe('natDetected', () => {
  it('no NAT when the contact names the source address and port', () => {
    expect(natDetected('203.0.113.9', 5060, '203.0.113.9', 5060)).toBe(false);
  });

  it('no NAT when the contact names the source address and no port', () => {
    expect(natDetected('203.0.113.9', null, '203.0.113.9', 40312)).toBe(false);
  });

  it('NAT when the contact address differs from the source address', () => {
    expect(natDetected('198.51.100.20', 5060, '203.0.113.9', 5060)).toBe(true);
    expect(natDetected('198.51.100.20', null, '203.0.113.9', 5060)).toBe(true);
  });

  it('NAT when the contact address is private, even if it is the source address', () => {
    expect(natDetected('192.168.1.20', 5060, '203.0.113.9', 40312)).toBe(true);
    expect(natDetected('10.0.0.5', 5060, '10.0.0.5', 5060)).toBe(true);
    expect(natDetected('fd00::5', 5060, 'fd00::5', 5060)).toBe(true);
  });

  it('NAT when only the port differs', () => {
    expect(natDetected('203.0.113.9', 5060, '203.0.113.9', 40312)).toBe(true);
  });

  it('a host-name contact compares only its port', () => {
    expect(natDetected('phone.example.com', 5060, '203.0.113.9', 5060)).toBe(false);
    expect(natDetected('phone.example.com', null, '203.0.113.9', 40312)).toBe(false);
    expect(natDetected('phone.example.com', 5060, '203.0.113.9', 40312)).toBe(true);
  });

  it('a .invalid host (a WebSocket client with no address of its own, RFC 7118) is NAT', () => {
    expect(natDetected('df7jal23ls0d.invalid', null, '203.0.113.9', 40312)).toBe(true);
    expect(natDetected('DF7JAL23LS0D.INVALID', 5060, '203.0.113.9', 5060)).toBe(true);
    expect(natDetected('.invalid', null, '203.0.113.9', 40312)).toBe(false); // not a name
    expect(natDetected('invalid.example.com', null, '203.0.113.9', 40312)).toBe(false);
  });

  it('IPv6 contacts compare as addresses, not as text', () => {
    expect(natDetected('2001:db8::1', 5060, '2001:0db8:0:0::1', 5060)).toBe(false);
    expect(natDetected('2001:DB8::1', 5060, '2001:db8::1', 5060)).toBe(false);
    expect(natDetected('2001:db8::1', 5060, '2001:db8::2', 5060)).toBe(true);
    expect(natDetected('2001:db8::1', 5060, '2001:db8::1', 5070)).toBe(true);
  });

  it('an IPv6 contact seen from an IPv4 source (or the other way round) is NAT', () => {
    expect(natDetected('2001:db8::1', 5060, '203.0.113.9', 5060)).toBe(true);
    expect(natDetected('203.0.113.9', 5060, '2001:db8::1', 5060)).toBe(true);
  });
});
