import { describe, expect, it } from 'vitest';
import { DEFAULT_SCANNER_AGENTS, scannerAgentMatcher } from './scanner-agents.js';

describe('DEFAULT_SCANNER_AGENTS', () => {
  it('holds the tools the issue names', () => {
    for (const a of ['friendly-scanner', 'sipvicious', 'VaxSIPUserAgent']) expect(DEFAULT_SCANNER_AGENTS).toContain(a);
    expect(DEFAULT_SCANNER_AGENTS.some((a) => 'sipcli/v1.8'.includes(a))).toBe(true);
  });

  it('leaves out test tools that operators run on purpose', () => {
    const isScanner = scannerAgentMatcher([]);
    expect(isScanner('sipsak 0.9.8')).toBe(false);
    expect(isScanner('SIPp/Linux')).toBe(false);
    expect(isScanner('SIPp v3.6.1-PCAP-RTPSTREAM')).toBe(false);
  });

  it('cannot be changed at run time', () => {
    expect(Object.isFrozen(DEFAULT_SCANNER_AGENTS)).toBe(true);
  });
});

describe('scannerAgentMatcher', () => {
  const isScanner = scannerAgentMatcher([]);

  it.each([
    'friendly-scanner',
    'friendly-request',
    'sipvicious',
    'SIPVicious 0.3.4',
    'sipcli/v1.8',
    'sipcli/v2.2',
    'VaxSIPUserAgent/3.1',
    'VaxIPUserAgent/3.0',
    'sundayddr',
    'iWar',
    'sip-scan',
    'SIPScan 1.0',
    'pplsip',
    'sipptk',
    'SIVuS VoIP Vulnerability Scanner',
    'siparmyknife 11232011',
  ])('%j is a scanner', (ua) => {
    expect(isScanner(ua)).toBe(true);
  });

  it('matches case-insensitively anywhere in the header', () => {
    expect(isScanner('FRIENDLY-SCANNER')).toBe(true);
    expect(isScanner('Friendly-Scanner')).toBe(true);
    expect(isScanner('Mozilla/5.0 (compatible; friendly-scanner; +http://example.com)')).toBe(true);
    expect(isScanner('vaxsipuseragent/3.1')).toBe(true);
    expect(isScanner('IWAR')).toBe(true);
  });

  it.each([
    'Yealink SIP-T46S 66.86.0.15',
    'Grandstream GXP2170 1.0.11.3',
    'Polycom/6.4.3.5018 PolycomVVX-VVX_411-UA/6.4.3.5018',
    'Cisco/SPA504G-7.6.2',
    'Cisco-SIPGateway/IOS-15.x',
    'Zoiper rv2.10.18.2',
    'MicroSIP/3.21.3',
    'Linphone/5.2.0 (belle-sip/5.2.0)',
    'Bria 6 release 6.5.2',
    'eyeBeam release 1011d stamp 40820',
    'X-Lite release 5.8.3',
    'CSipSimple_r2487',
    'Asterisk PBX 18.20.0',
    'FreeSWITCH-mod_sofia/1.10.10',
    'Acme SipClient/2.0',
    'Rollcall/0.1.0',
    '',
  ])('%j is not a scanner', (ua) => {
    expect(isScanner(ua)).toBe(false);
  });

  it('a request without a User-Agent is not a scanner\'s', () => {
    expect(isScanner(null)).toBe(false);
  });

  it('adds configured entries to the defaults', () => {
    const m = scannerAgentMatcher(['BadBot', 'evil/2']);
    expect(m('badbot 1.0')).toBe(true);
    expect(m('x EVIL/2.1')).toBe(true);
    expect(m('evil/3')).toBe(false);
    expect(m('friendly-scanner')).toBe(true);
    expect(m('Yealink SIP-T46S')).toBe(false);
  });

  it('treats configured entries as text, not as patterns', () => {
    const m = scannerAgentMatcher(['a.b', '(x)', 'c*', '[z]', 'q+?', '^s$', 'back\\slash', 'p|q']);
    expect(m('a.b')).toBe(true);
    expect(m('axb')).toBe(false);
    expect(m('(x)')).toBe(true);
    expect(m('x')).toBe(false);
    expect(m('c*')).toBe(true);
    expect(m('cc')).toBe(false);
    expect(m('[z]')).toBe(true);
    expect(m('z')).toBe(false);
    expect(m('q+?')).toBe(true);
    expect(m('q')).toBe(false);
    expect(m('^s$')).toBe(true);
    expect(m('s')).toBe(false);
    expect(m('back\\slash')).toBe(true);
    expect(m('p|q')).toBe(true);
    expect(m('p')).toBe(false);
  });

  it('ignores blank configured entries (they would match every phone)', () => {
    const m = scannerAgentMatcher(['', '   ', '\t']);
    expect(m('Yealink SIP-T46S')).toBe(false);
    expect(m('friendly-scanner')).toBe(true);
  });

  it('trims configured entries', () => {
    expect(scannerAgentMatcher(['  BadBot  '])('BadBot/1')).toBe(true);
  });

  it('keeps no state between calls (a global regular expression would)', () => {
    for (let i = 0; i < 5; i++) expect(isScanner('friendly-scanner')).toBe(true);
  });
});
