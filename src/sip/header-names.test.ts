import { describe, expect, it } from 'vitest';
import { displayHeaderName, expandCompactForm, normalizeHeaderName } from './header-names.js';

describe('header names', () => {
  it('expands every compact form', () => {
    const pairs = Object.entries({
      v: 'via', f: 'from', t: 'to', m: 'contact', i: 'call-id', l: 'content-length', k: 'supported', s: 'subject',
      c: 'content-type', e: 'content-encoding', o: 'event', u: 'allow-events', r: 'refer-to', b: 'referred-by',
      x: 'session-expires', a: 'accept-contact', j: 'reject-contact', d: 'request-disposition', y: 'identity', n: 'identity-info',
    });
    for (const [short, long] of pairs) {
      expect(expandCompactForm(short)).toBe(long);
      expect(normalizeHeaderName(short.toUpperCase())).toBe(long);
    }
    expect(expandCompactForm('q')).toBe('q');
    expect(normalizeHeaderName('MaX-fOrWaRdS')).toBe('max-forwards');
  });

  it('spells known headers the conventional way and title-cases the others', () => {
    expect(displayHeaderName('call-id')).toBe('Call-ID');
    expect(displayHeaderName('cseq')).toBe('CSeq');
    expect(displayHeaderName('www-authenticate')).toBe('WWW-Authenticate');
    expect(displayHeaderName('max-forwards')).toBe('Max-Forwards');
    expect(displayHeaderName('user-agent')).toBe('User-Agent');
    expect(displayHeaderName('i')).toBe('Call-ID');
    expect(displayHeaderName('sip-etag')).toBe('SIP-ETag');
    expect(displayHeaderName('x-custom-thing')).toBe('X-Custom-Thing');
    expect(displayHeaderName('newfangledheader')).toBe('Newfangledheader');
  });
});
