import { describe, expect, it } from 'vitest';
import { Binding } from '../registrar/binding.js';
import { CSV_COLUMNS, csvField, registrationJson } from './registration-json.js';
import { natDetected } from '../registrar/nat-detection.js';
import { contactHostPort } from '../sip/contact-address.js';

const T0 = 1_800_000_000_000;

function binding(contact: string, sourceAddress = '203.0.113.9', sourcePort = 40312): Binding {
  return new Binding(
    17,
    'sip:1001@example.com',
    '1001',
    'example.com',
    contact,
    '<urn:uuid:00000000-0000-1000-8000-000a95a0e128>',
    1,
    0.5,
    'call-17',
    12,
    3600,
    T0 + 3600_000,
    T0 - 400_000,
    T0,
    sourceAddress,
    sourcePort,
    'UDP',
    '0.0.0.0',
    5060,
    'Yealink SIP-T46S 66.86.0.15',
    ['<sip:edge.example.com;lr>'],
    // As the registrar decides it (from the Contact here; the Via says the same as the source).
    ((c) => c !== null && natDetected(c.host, c.port, sourceAddress, sourcePort))(contactHostPort(contact)),
  );
}

describe('csvField', () => {
  it('an absent value is an empty field', () => {
    expect(csvField(null)).toBe('');
    expect(csvField(undefined)).toBe('');
  });

  it('plain text, numbers and booleans are written as they are', () => {
    expect(csvField('1001')).toBe('1001');
    expect(csvField('sip:1001@192.168.1.20:5060;transport=udp')).toBe('sip:1001@192.168.1.20:5060;transport=udp');
    expect(csvField(5060)).toBe('5060');
    expect(csvField(0.5)).toBe('0.5');
    expect(csvField(true)).toBe('true');
    expect(csvField('')).toBe('');
  });

  it('a field holding a comma, a quote or a line break is quoted, quotes doubled (RFC 4180)', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('line\nbreak')).toBe('"line\nbreak"');
    expect(csvField('cr\rhere')).toBe('"cr\rhere"');
    expect(csvField('"')).toBe('""""');
  });

  it.each([
    ['=1+1', "'=1+1"],
    ['+15551234', "'+15551234"],
    ['-2', "'-2"],
    ['@SUM(A1:A9)', "'@SUM(A1:A9)"],
    ['\tcmd', "'\tcmd"],
  ])('text starting a formula is defused: %j → %j', (text, field) => {
    expect(csvField(text)).toBe(field);
  });

  it('a defused field is quoted too when it needs to be', () => {
    expect(csvField('=HYPERLINK("http://evil.example","click")')).toBe('"\'=HYPERLINK(""http://evil.example"",""click"")"');
    expect(csvField('\rx')).toBe('"\'\rx"');
  });

  it('a formula character later in the text is left alone', () => {
    expect(csvField('Yealink =1+1')).toBe('Yealink =1+1');
    expect(csvField('a-b')).toBe('a-b');
  });

  it('a negative number stays a number', () => {
    expect(csvField(-5)).toBe('-5');
  });

  it('a list is written space-separated, quoted and defused like text', () => {
    expect(csvField([])).toBe('');
    expect(csvField(['<sip:a.example;lr>', '<sip:b.example;lr>'])).toBe('<sip:a.example;lr> <sip:b.example;lr>');
    expect(csvField(['a,b', 'c'])).toBe('"a,b c"');
    expect(csvField(['=1+1'])).toBe("'=1+1");
  });
});

describe('registrationJson', () => {
  it('shows every stored field, the contact address and what the clock derives', () => {
    const b = binding('sip:1001@192.168.1.20:5060;transport=udp');
    expect(registrationJson(b, T0 + 1000, 0.1, 'acme')).toEqual({
      id: 17,
      aor: 'sip:1001@example.com',
      number: '1001',
      domain: 'example.com',
      customer: 'acme',
      contact: 'sip:1001@192.168.1.20:5060;transport=udp',
      contactAddress: '192.168.1.20',
      contactPort: 5060,
      sourceAddress: '203.0.113.9',
      sourcePort: 40312,
      transport: 'UDP',
      localAddress: '0.0.0.0',
      localPort: 5060,
      expires: 3600,
      expiresAt: T0 + 3600_000,
      remaining: 3599,
      registeredAt: T0 - 400_000,
      refreshedAt: T0,
      userAgent: 'Yealink SIP-T46S 66.86.0.15',
      status: 'registered',
      nat: true,
      instance: '<urn:uuid:00000000-0000-1000-8000-000a95a0e128>',
      regId: 1,
      q: 0.5,
      callId: 'call-17',
      cseq: 12,
      path: ['<sip:edge.example.com;lr>'],
      received: '203.0.113.9:40312',
      outbound: true,
      connectionId: null,
      reachability: 'unknown',
      lastSeenAt: T0,
      rttMs: null,
      keepAliveMisses: 0,
    });
  });

  it('status is lower case: registered, expiring, unregistered', () => {
    const b = binding('sip:1001@203.0.113.9:40312');
    // 3600 s interval, share 0.1: Expiring in the last 360 s.
    expect(registrationJson(b, T0, 0.1, null).status).toBe('registered');
    expect(registrationJson(b, T0 + 3240_000, 0.1, null).status).toBe('expiring');
    expect(registrationJson(b, T0 + 3600_000, 0.1, null).status).toBe('unregistered');
    expect(registrationJson(b, T0 + 3600_000, 0.1, null).remaining).toBe(0);
  });

  it('no NAT when the contact is the public source address and port', () => {
    const j = registrationJson(binding('sip:1001@203.0.113.9:40312'), T0, 0.1, null);
    expect([j.contactAddress, j.contactPort, j.nat]).toEqual(['203.0.113.9', 40312, false]);
  });

  it('NAT when the contact port differs from the source port', () => {
    expect(registrationJson(binding('sip:1001@203.0.113.9:5060'), T0, 0.1, null).nat).toBe(true);
  });

  it('an IPv6 contact shows its address without brackets', () => {
    const j = registrationJson(binding('sip:1001@[2001:db8::7]:5070', '2001:db8::7', 5070), T0, 0.1, null);
    expect([j.contactAddress, j.contactPort, j.nat]).toEqual(['2001:db8::7', 5070, false]);
  });

  it('a host-name contact shows the host name, and NAT only when its port differs', () => {
    const same = registrationJson(binding('sip:1001@phone.example.com:40312'), T0, 0.1, null);
    expect([same.contactAddress, same.contactPort, same.nat]).toEqual(['phone.example.com', 40312, false]);
    expect(registrationJson(binding('sip:1001@phone.example.com'), T0, 0.1, null).nat).toBe(false);
  });

  it('a contact without an address gives null address and port, and no NAT flag', () => {
    const j = registrationJson(binding('garbage'), T0, 0.1, null);
    expect([j.contactAddress, j.contactPort, j.nat]).toEqual([null, null, false]);
  });

  it('every CSV column is a field of the JSON', () => {
    const j = registrationJson(binding('sip:1001@192.168.1.20:5060'), T0, 0.1, 'acme');
    for (const c of CSV_COLUMNS) expect(Object.keys(j), c).toContain(c);
    expect(CSV_COLUMNS.map((c) => csvField(j[c])).join(',')).toBe(
      `1001,example.com,acme,sip:1001@example.com,sip:1001@192.168.1.20:5060,192.168.1.20,5060,203.0.113.9,40312,UDP,registered,3600,3600,${T0 + 3600_000},${T0 - 400_000},${T0},Yealink SIP-T46S 66.86.0.15,true,unknown,1800000000000,,17`,
    );
  });
});
