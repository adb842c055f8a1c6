import { beforeEach, describe, expect, it } from 'vitest';
import type { SipRequest } from '../sip/message.js';
import { parseMessage } from '../sip/parser.js';
import type { FailureReason } from '../store/store.js';
import type { Flow, Listener, TransportName } from '../transport/transport.js';
import { AddressList } from './address-list.js';
import { FailureAggregator } from './failure-aggregator.js';
import { SipInboundGuard, type ScannerSettings } from './inbound-guard.js';
import { SourceGate, type GateSettings } from './source-gate.js';

const T0 = 1_800_000_000_000;
const SCANNER = '203.0.113.9';
const PHONE = '198.51.100.7';

const listener: Listener = { transport: 'UDP', localAddress: '192.0.2.1', localPort: 5060, sendTo() {}, close: async () => {} };

function flow(address: string, port = 5062, transport: TransportName = 'UDP'): Flow {
  return { transport, remoteAddress: address, remotePort: port, localAddress: '192.0.2.1', localPort: 5060, listener, connection: null };
}

/** A parsed OPTIONS (what svmap sends) with this User-Agent (null: none). */
function options(userAgent: string | null): SipRequest {
  const text = [
    'OPTIONS sip:100@192.0.2.1 SIP/2.0',
    'Via: SIP/2.0/UDP 203.0.113.9:5062;branch=z9hG4bK-1',
    'Max-Forwards: 70',
    'From: "sipvicious" <sip:100@1.1.1.1>;tag=a1',
    'To: "sipvicious" <sip:100@1.1.1.1>',
    'Call-ID: 1234@scan',
    'CSeq: 1 OPTIONS',
    ...(userAgent === null ? [] : [`User-Agent: ${userAgent}`]),
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  const msg = parseMessage(Buffer.from(text), 'datagram');
  if (msg.kind !== 'request') throw new Error(`test request does not parse: ${JSON.stringify(msg)}`);
  return msg;
}

function list(...cidrs: string[]): AddressList<unknown> {
  return AddressList.build(cidrs.map((cidr) => ({ cidr, value: null })));
}

let gateSettings: { rateLimit: GateSettings['rateLimit']; floodBlock: GateSettings['floodBlock']; unauthorizedResponse: 'drop' | '403' };
let scannerSettings: { scannerAgents: readonly string[]; blockScanners: boolean; unauthorizedResponse: 'drop' | '403' };
let gate: SourceGate;
let aggregator: FailureAggregator;
let scanners: Array<{ msg: SipRequest; flow: Flow; reason: FailureReason; block: boolean }>;
let guard: SipInboundGuard;

beforeEach(() => {
  gateSettings = {
    rateLimit: {
      enabled: true,
      requestRate: 100,
      requestBurst: 100,
      registerRate: 100,
      registerBurst: 100,
      action: 'drop',
      newSourceRate: 1,
      newSourceBurst: 2,
      trustTime: 3600,
    },
    floodBlock: { enabled: false, threshold: 1000, window: 10 },
      unauthorizedResponse: 'drop',
  };
  scannerSettings = { scannerAgents: [], blockScanners: true, unauthorizedResponse: 'drop' };
  gate = new SourceGate(() => gateSettings);
  aggregator = new FailureAggregator();
  scanners = [];
  guard = new SipInboundGuard({
    gate,
    aggregator,
    settings: (): ScannerSettings => scannerSettings,
    onScanner: (msg, f, reason, block) => scanners.push({ msg, flow: f, reason, block }),
  });
});

describe('SipInboundGuard.admit', () => {
  it('accepts what the gate accepts and notes nothing', () => {
    expect(guard.admit(PHONE, 5062, 'UDP', true, T0)).toBe(0);
    expect(aggregator.drain()).toEqual([]);
  });

  it('drops a blocked source (1) and notes it as blocked-address with its port and transport', () => {
    gate.block(SCANNER, null);
    expect(guard.admit(SCANNER, 40000, 'TCP', true, T0)).toBe(1);
    expect(guard.admit(SCANNER, 40001, 'TCP', false, T0 + 10)).toBe(1);
    expect(aggregator.drain()).toEqual([
      {
        time: T0,
        sourceAddress: SCANNER,
        sourcePort: 40001,
        transport: 'TCP',
        username: null,
        userAgent: null,
        reason: 'blocked-address',
        detail: '2 messages refused in this second',
        count: 2,
      },
    ]);
  });

  it('answers 403 (2) for a blocked source when unauthorizedResponse is 403', () => {
    gateSettings.unauthorizedResponse = '403';
    gate.block(SCANNER, null);
    expect(guard.admit(SCANNER, 5060, 'UDP', true, T0)).toBe(2);
    expect(aggregator.drain().map((r) => [r.reason, r.count])).toEqual([['blocked-address', 1]]);
  });

  it('notes a rate-limited source as rate-limited; 503 (3) when action is 503', () => {
    gateSettings.rateLimit = { ...gateSettings.rateLimit, action: '503' };
    expect([0, 1, 2].map(() => guard.admit(SCANNER, 5060, 'UDP', true, T0))).toEqual([0, 0, 3]);
    expect(aggregator.drain().map((r) => [r.sourceAddress, r.reason, r.count])).toEqual([[SCANNER, 'rate-limited', 1]]);
    expect(guard.retryAfter(flow(SCANNER), T0)).toBe(1);
  });

  it('retryAfter is the gate’s for the flow’s address', () => {
    gateSettings.rateLimit = { ...gateSettings.rateLimit, action: '503', newSourceRate: 0.2 };
    for (let i = 0; i < 3; i++) guard.admit(SCANNER, 5060, 'UDP', true, T0);
    expect(guard.retryAfter(flow(SCANNER), T0)).toBe(5);
    expect(guard.retryAfter(flow(SCANNER), T0)).toBe(gate.retryAfter(SCANNER, T0));
  });
});

describe('SipInboundGuard.screen', () => {
  it('drops (1) a request from friendly-scanner and reports it with block = blockScanners', () => {
    const msg = options('friendly-scanner');
    const f = flow(SCANNER);
    expect(guard.screen(msg, f)).toBe(1);
    expect(scanners).toEqual([{ msg, flow: f, reason: 'scanner', block: true }]);
  });

  it('answers 403 (2) to a scanner when unauthorizedResponse is 403', () => {
    scannerSettings.unauthorizedResponse = '403';
    expect(guard.screen(options('sipcli/v1.8'), flow(SCANNER))).toBe(2);
    expect(scanners).toHaveLength(1);
  });

  it('reports block false when blockScanners is off, and still refuses the request', () => {
    scannerSettings.blockScanners = false;
    expect(guard.screen(options('VaxSIPUserAgent/3.1'), flow(SCANNER))).toBe(1);
    expect(scanners.map((s) => [s.reason, s.block])).toEqual([['scanner', false]]);
  });

  it('refuses a configured extra User-Agent, matched case-insensitively', () => {
    scannerSettings.scannerAgents = ['evil-dialer'];
    expect(guard.screen(options('Evil-Dialer 2.0'), flow(SCANNER))).toBe(1);
    expect(scanners).toHaveLength(1);
  });

  it('passes (0) a phone’s User-Agent and a request without one', () => {
    expect(guard.screen(options('Yealink SIP-T46U 108.86.0.20'), flow(PHONE))).toBe(0);
    expect(guard.screen(options('Linphone/5.2.0 (belle-sip/5.2.0)'), flow(PHONE))).toBe(0);
    expect(guard.screen(options(null), flow(PHONE))).toBe(0);
    expect(scanners).toEqual([]);
  });

  it('never treats an allow-listed source as a scanner', () => {
    gate.setLists(list('203.0.113.0/24'), list());
    expect(guard.screen(options('friendly-scanner'), flow(SCANNER))).toBe(0);
    expect(scanners).toEqual([]);
  });

  it('applies a change of scannerAgents at once, both adding and removing', () => {
    expect(guard.screen(options('evil-dialer'), flow(SCANNER))).toBe(0);
    scannerSettings = { ...scannerSettings, scannerAgents: ['evil-dialer'] };
    expect(guard.screen(options('evil-dialer'), flow(SCANNER))).toBe(1);
    scannerSettings = { ...scannerSettings, scannerAgents: [] };
    expect(guard.screen(options('evil-dialer'), flow(SCANNER))).toBe(0);
    // The built-in list stays whatever is configured.
    expect(guard.screen(options('friendly-scanner'), flow(SCANNER))).toBe(1);
  });

  it('applies a change of unauthorizedResponse at once', () => {
    expect(guard.screen(options('friendly-scanner'), flow(SCANNER))).toBe(1);
    scannerSettings.unauthorizedResponse = '403';
    expect(guard.screen(options('friendly-scanner'), flow(SCANNER))).toBe(2);
  });
});
