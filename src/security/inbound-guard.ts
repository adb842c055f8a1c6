// The transport layer's guard (src/transport/transport-layer.ts InboundGuard): the source
// gate before parsing, the scanner check after it, and the failure log for what they refuse.

import type { SipRequest } from '../sip/message.js';
import type { FailureReason } from '../store/store.js';
import type { Flow } from '../transport/transport.js';
import type { GuardVerdict, InboundGuard } from '../transport/transport-layer.js';
import type { FailureAggregator } from './failure-aggregator.js';
import { scannerAgentMatcher } from './scanner-agents.js';
import type { SourceGate } from './source-gate.js';

export interface ScannerSettings {
  readonly scannerAgents: readonly string[];
  readonly blockScanners: boolean;
  readonly unauthorizedResponse: 'drop' | '403';
}

export interface InboundGuardDeps {
  readonly gate: SourceGate;
  readonly aggregator: FailureAggregator;
  readonly settings: () => ScannerSettings;
  /** A scanner's request: the owner records the failure and blocks the source when asked. */
  readonly onScanner: (msg: SipRequest, flow: Flow, reason: FailureReason, block: boolean) => void;
}

export class SipInboundGuard implements InboundGuard {
  private extra: readonly string[] | null = null;
  private isScanner: (ua: string | null) => boolean = () => false;

  constructor(private readonly deps: InboundGuardDeps) {}

  admit(address: string, port: number, transport: string, isRegister: boolean, nowMs: number): GuardVerdict {
    const v = this.deps.gate.admit(address, isRegister, nowMs);
    if (v !== 0) this.deps.aggregator.note(address, port, transport, this.deps.gate.lastRefusal, nowMs);
    return v;
  }

  refuses(address: string, nowMs: number): boolean {
    return this.deps.gate.refuses(address, nowMs);
  }

  screen(msg: SipRequest, flow: Flow): GuardVerdict {
    const s = this.deps.settings();
    if (s.scannerAgents !== this.extra) {
      this.extra = s.scannerAgents;
      this.isScanner = scannerAgentMatcher(s.scannerAgents);
    }
    if (msg.userAgent === null || !this.isScanner(msg.userAgent)) return 0;
    if (this.deps.gate.isAllowListed(flow.remoteAddress)) return 0;
    this.deps.onScanner(msg, flow, 'scanner', s.blockScanners);
    return s.unauthorizedResponse === '403' ? 2 : 1;
  }

  retryAfter(flow: Flow, nowMs: number): number {
    return this.deps.gate.retryAfter(flow.remoteAddress, nowMs);
  }
}
