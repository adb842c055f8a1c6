import { describe, expect, it } from 'vitest';
import { parseMessage } from '../sip/parser.js';
import { OptionsPingWriter, PING_BRANCH_PREFIX, PING_SEQ_LIMIT, pingSeqIn } from './options-ping.js';

const target = (over: Partial<{ contact: string; transport: string; domain: string; localPort: number }> = {}) => ({
  contact: 'sip:alice@192.168.1.20:5060;transport=udp',
  transport: 'UDP',
  domain: 'example.com',
  localPort: 5060,
  ...over,
});

describe('OptionsPingWriter', () => {
  it('writes a complete OPTIONS: contact as Request-URI and To, Via with our branch and rport, Call-ID from the branch', () => {
    const w = new OptionsPingWriter('ab12cd34');
    const buf = w.write(target(), 4711, '198.51.100.1', 'Rollcall/1.0');
    expect(buf.toString('latin1')).toBe(
      [
        'OPTIONS sip:alice@192.168.1.20:5060;transport=udp SIP/2.0',
        'Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bK-rcka-ab12cd34-4711;rport',
        'Max-Forwards: 70',
        'From: <sip:keepalive@example.com>;tag=ab12cd34',
        'To: <sip:alice@192.168.1.20:5060;transport=udp>',
        'Call-ID: z9hG4bK-rcka-ab12cd34-4711@198.51.100.1',
        'CSeq: 1 OPTIONS',
        'User-Agent: Rollcall/1.0',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
    const msg = parseMessage(buf, 'datagram');
    expect(msg.kind).toBe('request');
  });

  it('reuses a template only for the same domain, socket, host and User-Agent', () => {
    const w = new OptionsPingWriter('t');
    const first = (s: Buffer) => s.toString('latin1').split('\r\n');
    expect(first(w.write(target(), 0, '198.51.100.1', 'A'))[1]).toBe('Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bK-rcka-t-0;rport');
    expect(first(w.write(target({ localPort: 5080 }), 1, '198.51.100.1', 'A'))[1]).toBe('Via: SIP/2.0/UDP 198.51.100.1:5080;branch=z9hG4bK-rcka-t-1;rport');
    expect(first(w.write(target({ domain: 'other.example' }), 2, '198.51.100.1', 'A'))[3]).toBe('From: <sip:keepalive@other.example>;tag=t');
    expect(first(w.write(target(), 3, '198.51.100.1', 'B'))[7]).toBe('User-Agent: B');
    expect(first(w.write(target(), 4, '198.51.100.1', 'A'))[7]).toBe('User-Agent: A');
    expect(first(w.write(target(), 5, '198.51.100.1', ''))[7]).toBe('Content-Length: 0');
  });

  it('brackets an IPv6 sent-by in Via and Call-ID', () => {
    const text = new OptionsPingWriter('t').write(target({ contact: 'sip:bob@[fd00::5]:5060' }), 9, '2001:db8::1', 'R').toString('latin1');
    expect(text).toContain('\r\nVia: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK-rcka-t-9;rport\r\n');
    expect(text).toContain('\r\nCall-ID: z9hG4bK-rcka-t-9@[2001:db8::1]\r\n');
    expect(text.startsWith('OPTIONS sip:bob@[fd00::5]:5060 SIP/2.0\r\n')).toBe(true);
  });

  it('writes a contact beyond ASCII as UTF-8', () => {
    const buf = new OptionsPingWriter('t').write(target({ contact: 'sip:jürgen@192.168.1.2' }), 12, '198.51.100.1', 'R');
    const text = buf.toString('utf8');
    expect(text.startsWith('OPTIONS sip:jürgen@192.168.1.2 SIP/2.0\r\n')).toBe(true);
    expect(text).toContain('\r\nTo: <sip:jürgen@192.168.1.2>\r\n');
    expect(text).toContain(';branch=z9hG4bK-rcka-t-12;rport');
  });

  it('writes sequence numbers of every width up to the limit', () => {
    const w = new OptionsPingWriter('t');
    for (const seq of [0, 9, 10, 99, 100, 123456789, PING_SEQ_LIMIT - 1]) {
      expect(w.write(target(), seq, '198.51.100.1', 'R').toString('latin1')).toContain(`;branch=z9hG4bK-rcka-t-${seq};rport`);
    }
  });
});

describe('pingSeqIn', () => {
  const start = Buffer.from(`${PING_BRANCH_PREFIX}t-`);
  const seqOf = (s: string) => pingSeqIn(Buffer.from(s, 'latin1'), start);

  it('reads the sequence number after our branch start, ended by a separator', () => {
    expect(seqOf('Via: SIP/2.0/UDP h:5060;branch=z9hG4bK-rcka-t-4711;rport;received=1.2.3.4\r\n')).toBe(4711);
    expect(seqOf('Call-ID: z9hG4bK-rcka-t-0@h\r\n')).toBe(0);
    expect(seqOf('Via: SIP/2.0/UDP h;branch=z9hG4bK-rcka-t-77\r\n')).toBe(77);
    expect(seqOf('...branch=z9hG4bK-rcka-t-77')).toBe(77);
  });

  it('is -1 for another branch, no digits, more token after the digits, or a number past the limit', () => {
    expect(seqOf('branch=z9hG4bK-rcka-u-12;rport')).toBe(-1);
    expect(seqOf('branch=z9hG4bK-rcka-t-;rport')).toBe(-1);
    expect(seqOf('branch=z9hG4bK-rcka-t-12x;rport')).toBe(-1);
    expect(seqOf('branch=z9hG4bK-rcka-t-12.5;rport')).toBe(-1);
    expect(seqOf(`branch=z9hG4bK-rcka-t-${PING_SEQ_LIMIT};rport`)).toBe(-1);
    expect(seqOf('branch=z9hG4bK-rcka-t-12345678901;rport')).toBe(-1);
  });
});
