// The RFC 4475 / RFC 5118 torture corpus through the parser. The corpus lives outside the
// repository (../shared/conformance/sip-torture next to it) and is read, never copied.

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { NameAddr, SipRequest, SipResponse, SipUri } from './message.js';
import { getParam, headerValue } from './message.js';
import { parseMessage } from './parser.js';
import { serializeMessage } from './serializer.js';

const CORPUS = fileURLToPath(new URL('../../../shared/conformance/sip-torture/', import.meta.url));
const present = existsSync(`${CORPUS}expectations.json`);
if (!present) console.warn(`torture corpus not found at ${CORPUS}: the RFC 4475/5118 tests are skipped`);

interface Expectation {
  readonly rfc: string;
  readonly section: string;
  readonly class: 'valid' | 'invalid' | 'app-semantics';
  readonly kind: 'request' | 'response';
  readonly expected: string;
  readonly rfc_preferred_status: readonly number[];
  readonly liberal_acceptance_allowed: boolean;
}

type Verdict =
  | { readonly parse: true }
  | { readonly parse: false; readonly status: number; readonly reason: string; readonly answerable: boolean };

const PARSES: Verdict = { parse: true };
const rejects = (status: number, reason: string, answerable: boolean): Verdict => ({ parse: false, status, reason, answerable });

/**
 * Rollcall's verdict per message, decided from the RFC text quoted in expectations.json
 * (`expected`). valid → parses; invalid → an error (where the RFC lets an element be liberal,
 * Rollcall is strict, except baddate: Date is never read); app-semantics → parses, except
 * insuf (no Call-ID/From/To), multi01 (several To/From/Call-ID/CSeq) and mcl01 (two
 * Content-Lengths), which are broken at the syntax level.
 */
const VERDICTS: Readonly<Record<string, Verdict>> = {
  // RFC 4475 §3.1.1: valid
  wsinv: PARSES,
  intmeth: PARSES,
  esc01: PARSES,
  escnull: PARSES,
  esc02: PARSES,
  lwsdisp: PARSES,
  longreq: PARSES,
  dblreq: PARSES,
  semiuri: PARSES,
  transports: PARSES,
  mpart01: PARSES,
  unreason: PARSES,
  noreason: PARSES,
  // RFC 4475 §3.1.2: invalid
  badinv01: rejects(400, 'malformed Via header', true),
  clerr: rejects(400, 'Content-Length 9999 exceeds the 154 body bytes received', true),
  ncl: rejects(400, 'malformed Content-Length header', true),
  scalar02: rejects(400, 'CSeq number above 2**32-1', true),
  scalarlg: rejects(400, 'CSeq number above 2**32-1', false),
  quotbal: rejects(400, 'malformed To header', true),
  ltgtruri: rejects(400, 'malformed Request-URI', true),
  lwsruri: rejects(400, 'whitespace in the Request-URI', true),
  lwsstart: rejects(400, 'whitespace in the Request-URI', true),
  trws: rejects(400, 'whitespace at the end of the request line', true),
  escruri: rejects(400, 'headers in the Request-URI', true),
  baddate: PARSES,
  regbadct: rejects(400, 'malformed Contact header', true),
  badaspec: rejects(400, 'malformed To header', true),
  baddn: rejects(400, 'malformed From header', true),
  badvers: rejects(505, 'unsupported SIP version', true),
  mismatch01: rejects(400, 'CSeq method INVITE does not match the request method OPTIONS', true),
  mismatch02: rejects(400, 'CSeq method INVITE does not match the request method NEWMETHOD', true),
  bigcode: rejects(400, 'malformed status code', false),
  // RFC 4475 §3.2: valid
  badbranch: PARSES,
  // RFC 4475 §3.3: application semantics
  insuf: rejects(400, 'missing From header', false),
  unkscm: PARSES,
  novelsc: PARSES,
  unksm2: PARSES,
  bext01: PARSES,
  invut: PARSES,
  regaut01: PARSES,
  multi01: rejects(400, 'more than one CSeq header', true),
  mcl01: rejects(400, 'more than one Content-Length header', true),
  bcast: PARSES,
  zeromf: PARSES,
  cparam01: PARSES,
  cparam02: PARSES,
  regescrt: PARSES,
  sdp01: PARSES,
  // RFC 4475 §3.4: backward compatibility
  inv2543: PARSES,
  // RFC 5118
  'ipv6-good': PARSES,
  'ipv6-bad': rejects(400, 'malformed Request-URI', true),
  'port-ambiguous': PARSES,
  'port-unambiguous': PARSES,
  'via-received-param-with-delim': PARSES,
  'via-received-param-no-delim': PARSES,
  'ipv6-in-sdp': PARSES,
  'mult-ip-in-header': PARSES,
  'mult-ip-in-sdp': PARSES,
  'ipv4-mapped-ipv6': PARSES,
  'ipv6-bug-abnf-3-colons': PARSES,
  'ipv6-correct-abnf-2-colons': PARSES,
};

/** Messages broken at the syntax level although the RFC files them under application semantics. */
const SYNTAX_BROKEN_APP_SEMANTICS = new Set(['insuf', 'multi01', 'mcl01']);

function load(): { expectations: Record<string, Expectation>; names: string[] } {
  if (!present) return { expectations: {}, names: [] };
  const all = JSON.parse(readFileSync(`${CORPUS}expectations.json`, 'utf8')) as Record<string, unknown>;
  const names = Object.keys(all).filter((k) => !k.startsWith('_'));
  return { expectations: all as Record<string, Expectation>, names };
}

const { expectations, names } = load();
const bytes = (name: string): Buffer => readFileSync(`${CORPUS}${name}.dat`);

function parsed(name: string): SipRequest | SipResponse {
  const m = parseMessage(bytes(name), 'datagram');
  if (m.kind === 'parse-error') throw new Error(`${name}: ${m.reason}`);
  return m;
}

function req(name: string): SipRequest {
  const m = parsed(name);
  if (m.kind !== 'request') throw new Error(`${name}: not a request`);
  return m;
}

function contacts(m: SipRequest | SipResponse): NameAddr[] {
  if (m.contact === '*') throw new Error('wildcard');
  return [...m.contact];
}

describe.skipIf(!present)('RFC 4475 / RFC 5118 torture messages', () => {
  it('the verdict table covers exactly the corpus, and agrees with each message class', () => {
    expect(Object.keys(VERDICTS).sort()).toEqual([...names].sort());
    for (const name of names) {
      const e = expectations[name]!;
      const v = VERDICTS[name]!;
      if (e.class === 'valid') expect(v.parse, name).toBe(true);
      if (e.class === 'invalid' && !e.liberal_acceptance_allowed) expect(v.parse, name).toBe(false);
      if (e.class === 'app-semantics') expect(v.parse, name).toBe(!SYNTAX_BROKEN_APP_SEMANTICS.has(name));
    }
  });

  for (const name of names) {
    const v = VERDICTS[name];
    const e = expectations[name]!;
    it(`${name} (RFC ${e.rfc} §${e.section}, ${e.class}): ${v?.parse ? 'parses' : 'rejected'}`, () => {
      const m = parseMessage(bytes(name), 'datagram');
      expect(v).toBeDefined();
      if (v!.parse) {
        expect(m.kind, m.kind === 'parse-error' ? m.reason : '').toBe(e.kind);
        return;
      }
      expect(m.kind).toBe('parse-error');
      if (m.kind !== 'parse-error') return;
      expect(m.status).toBe(v!.status);
      expect(m.reason).toBe(v!.reason);
      expect(m.echo !== null).toBe(v!.answerable);
      // Never a 2xx; and when the RFC prefers codes for a request we answer, ours is one of them.
      if (m.echo !== null && e.rfc_preferred_status.length > 0) expect(e.rfc_preferred_status).toContain(m.status);
      if (e.kind === 'response') expect(m.echo).toBeNull();
    });
  }

  it('every message that parses survives serializeMessage → parseMessage unchanged', () => {
    for (const name of names.filter((n) => VERDICTS[n]?.parse)) {
      const { raw: _a, ...m } = parsed(name);
      const again = parseMessage(serializeMessage(parsed(name)), 'datagram');
      expect(again.kind, name).toBe(m.kind);
      if (again.kind === 'parse-error') continue;
      const { raw: _b, ...back } = again;
      expect(back, name).toEqual(m);
    }
  });

  it('extra/test.dat, which no RFC section describes, is refused without a throw', () => {
    const m = parseMessage(readFileSync(`${CORPUS}extra/test.dat`), 'datagram');
    expect(m).toMatchObject({ kind: 'parse-error', status: 400, echo: null });
  });

  it('wsinv: folding, odd whitespace and case, compact and long names', () => {
    const m = req('wsinv');
    expect(m.to.uriText).toBe('sip:vivekg@chair-dnrc.example.com');
    expect(m.to.params).toEqual([['tag', '1918181833n']]);
    expect(m.from.displayName).toBe('J Rosenberg \\"');
    expect(m.from.params).toEqual([['tag', '98asjd8']]);
    expect(m.maxForwards).toBe(68);
    expect(m.cseq).toEqual({ seq: 9, method: 'INVITE' });
    expect(m.via.map((v) => [v.transport, v.host, getParam(v.params, 'branch')])).toEqual([
      ['UDP', '192.0.2.2', '390skdjuw'], ['TCP', 'spindle.example.com', 'z9hG4bK9ikj8'], ['UDP', '192.168.255.111', 'z9hG4bK30239'],
    ]);
    const c = contacts(m)[0]!;
    expect(c.displayName).toBe('Quoted string ""');
    expect(c.params).toEqual([['newparam', 'newvalue'], ['secondparam', null], ['q', '0.33']]);
    expect(headerValue(m, 'newfangledheader')).toBe('newfangled value continued newfangled value');
    expect(headerValue(m, 'subject')).toBe('');
    expect(m.body.length).toBe(150);
  });

  it('intmeth: unusual but legal characters everywhere', () => {
    const m = req('intmeth');
    expect(m.method).toBe("!interesting-Method0123456789_*+`.%indeed'~");
    const u = m.uri as SipUri;
    expect(u.user).toBe("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    expect(u.password).toBe("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
    expect(m.to.displayName).toBe('BEL:\u0007 NUL:\u0000 DEL:\u007f');
    expect(m.from.displayName).toBe("token1~` token2'+_ token3*%!.-");
    expect(m.callId).toBe('intmeth.word%ZK-!.*_+\'@word`~)(><:\\/"][?}{');
  });

  it('esc01 / escnull / esc02: escapes decoded once, only where escaping exists', () => {
    const e = req('esc01');
    expect((e.uri as SipUri).user).toBe('sips:user@example.com');
    expect((e.to.uri as SipUri).user).toBe('user');
    expect((e.from.uri as SipUri).user).toBe('I have spaces');
    expect((contacts(e)[0]!.uri as SipUri).params).toEqual([['%6c%72', null], ['n%61me', 'v%61lue%25%34%31']]);
    const n = req('escnull');
    expect(contacts(n).map((c) => (c.uri as SipUri).user)).toEqual(['\u0000', '\u0000\u0000']);
    expect((n.to.uri as SipUri).user).toBe('null-\u0000-null');
    const x = req('esc02');
    expect(x.method).toBe('RE%47IST%45R');
    expect(x.to.displayName).toBe('%Z%45');
    expect(contacts(x)).toHaveLength(2);
    expect(headerValue(x, 'c%6fntact')).toBe('<sip:alias2@host2.example.com>');
  });

  it('dblreq: the REGISTER alone; the INVITE after it is ignored on a datagram', () => {
    const m = req('dblreq');
    expect(m.method).toBe('REGISTER');
    expect(m.body.length).toBe(0);
    expect(m.raw.toString('latin1').endsWith('Content-Length: 0\r\n\r\n')).toBe(true);
  });

  it('semiuri: the user part holds a semicolon and an escaped @', () => {
    expect((req('semiuri').uri as SipUri)).toMatchObject({ user: 'user;par=u@example.net', host: 'example.com', params: [] });
  });

  it('mpart01: a binary body framed by Content-Length', () => {
    const m = parsed('mpart01');
    expect(m.body.length).toBe(553);
    expect(m.contentLength).toBe(553);
  });

  it('unreason / noreason: UTF-8 and empty reason phrases', () => {
    const u = parsed('unreason') as SipResponse;
    expect(u.status).toBe(200);
    expect(u.reason.startsWith('= 2**3 * 5**2 но сто')).toBe(true);
    const n = parsed('noreason') as SipResponse;
    expect(n).toMatchObject({ status: 100, reason: '' });
  });

  it('unkscm / novelsc / unksm2: other schemes stay opaque', () => {
    expect(req('unkscm').uri).toEqual({ scheme: 'nobodyknowsthisscheme', rest: 'totallyopaquecontent' });
    expect(req('novelsc').uri).toEqual({ scheme: 'soap.beep', rest: '//192.0.2.103:3002' });
    const m = req('unksm2');
    expect(m.to.uri).toEqual({ scheme: 'isbn', rest: '2983792873' });
    expect(m.from.uri).toEqual({ scheme: 'http', rest: '//www.example.com' });
    expect(contacts(m)[0]!.uri).toEqual({ scheme: 'name', rest: 'John_Smith' });
  });

  it('bext01 / zeromf / regaut01: parsed as they are, for the layers above to judge', () => {
    const b = req('bext01');
    expect(b.require).toEqual(['nothingsupportsthis', 'nothingsupportsthiseither']);
    expect(b.proxyRequire).toEqual(['noproxiessupportthis', 'nordoanyproxiessupportthis']);
    expect(req('zeromf').maxForwards).toBe(0);
    const a = req('regaut01').authorization;
    expect(a).toHaveLength(1);
    expect(a[0]!.scheme).toBe('NoOneKnowsThisScheme');
    expect(a[0]!.params.get('opaque-data')).toBe('here');
  });

  it('cparam01 / cparam02 / regescrt: which parameters belong to the URI', () => {
    const c1 = contacts(req('cparam01'))[0]!;
    expect((c1.uri as SipUri).params).toEqual([]);
    expect(c1.params).toEqual([['unknownparam', null]]);
    const c2 = contacts(req('cparam02'))[0]!;
    expect((c2.uri as SipUri).params).toEqual([['unknownparam', null]]);
    expect(c2.params).toEqual([]);
    const r = contacts(req('regescrt'))[0]!;
    expect((r.uri as SipUri).headers).toEqual([['Route', '%3Csip:sip.example.com%3E']]);
  });

  it('inv2543: no branch, no From tag, no Content-Length, no Max-Forwards', () => {
    const m = req('inv2543');
    expect(m.via[0]!.params).toEqual([]);
    expect(m.from.params).toEqual([]);
    expect(m.maxForwards).toBeNull();
    expect(m.body.length).toBeGreaterThan(0);
  });

  it('RFC 5118: IPv6 hosts, the ambiguous port, received with and without brackets, three colons', () => {
    expect(req('port-ambiguous').uri).toMatchObject({ host: '2001:db8::10:5070', hostType: 'ipv6', port: null });
    expect(req('port-unambiguous').uri).toMatchObject({ host: '2001:db8::10', hostType: 'ipv6', port: 5070 });
    expect(getParam(req('via-received-param-with-delim').via[0]!.params, 'received')).toBe('[2001:db8::9:255]');
    expect(getParam(req('via-received-param-no-delim').via[0]!.params, 'received')).toBe('2001:db8::9:255');
    expect(req('ipv6-bug-abnf-3-colons').uri).toMatchObject({ host: '2001:db8:::192.0.2.1', hostType: 'ipv6' });
    expect(req('ipv4-mapped-ipv6').via.map((v) => [v.host, v.port])).toEqual([['::ffff:192.0.2.10', 19823], ['::ffff:192.0.2.2', null]]);
    expect(req('mult-ip-in-header').via.map((v) => v.hostType)).toEqual(['ipv6', 'ipv4', 'ipv6']);
  });
});
