// The registrar's security (SPEC §3, §7): which source may use an account (its auth mode and
// allowed networks, its customer's allow and deny lists), brute-force counting with blocks of
// sources and usernames, the per-registration retry limit, and the failure log.

import type { AccountRecord, FailureReason, FailureRecord } from '../store/store.js';
import type { InboundRequest } from '../transport/transport-layer.js';
import type { Flow } from '../transport/transport.js';
import { AddressList } from './address-list.js';
import { AuthFailureTracker, type AuthFailurePolicy } from './auth-failure-tracker.js';
import type { SourceGate } from './source-gate.js';

export interface RegistrationGuardDeps {
  readonly gate: SourceGate;
  readonly policy: () => AuthFailurePolicy & { readonly duration: number };
  /** Writes a failure to the log (through the journal). */
  readonly recordFailure: (f: FailureRecord) => void;
  /** Stores a block (and records its event); `until` null: until removed. */
  readonly block: (kind: 'address' | 'username', value: string, reason: string, until: number | null) => void;
  readonly now: () => number;
}

/** Per-customer lists: allowed sources skip lockout; denied sources may not register. */
export interface CustomerLists {
  readonly allow: AddressList<unknown>;
  readonly deny: AddressList<unknown>;
}

export class RegistrationGuard {
  private readonly tracker: AuthFailureTracker;
  private readonly allowedNetworks = new WeakMap<AccountRecord, AddressList<unknown>>();
  private readonly hostPorts = new WeakMap<AccountRecord, Array<{ list: AddressList<unknown>; port: number | null }>>();
  private customers = new Map<string, CustomerLists>();
  /** Blocked usernames (`user@domain`) and when each block ends (null: until removed). */
  private blockedUsernames = new Map<string, number | null>();
  /** Whether any account authenticates by source address (then To names the account). */
  ipAccounts = false;

  constructor(private readonly deps: RegistrationGuardDeps) {
    this.tracker = new AuthFailureTracker(deps.policy);
  }

  setCustomerLists(lists: Map<string, CustomerLists>): void {
    this.customers = lists;
  }

  setBlockedUsernames(blocked: Map<string, number | null>): void {
    this.blockedUsernames = blocked;
  }

  forgetSource(address: string): void {
    this.tracker.forgetSource(address);
  }

  forgetUsername(username: string): void {
    this.tracker.forgetUsername(username);
    this.blockedUsernames.delete(username);
  }

  usernameBlocked(username: string, domain: string): boolean {
    if (this.blockedUsernames.size === 0) return false;
    const key = `${username}@${domain}`;
    const until = this.blockedUsernames.get(key);
    if (until === undefined) return false;
    if (until !== null && until <= this.deps.now()) {
      this.blockedUsernames.delete(key);
      return false;
    }
    return true;
  }

  /**
   * Whether `account` may register from this flow: inside its allowed networks (with the
   * port for ip-port), and not in its customer's deny list.
   */
  sourceAllowed(account: AccountRecord, flow: Flow): boolean {
    const address = flow.remoteAddress;
    if (account.customer !== null) {
      const lists = this.customers.get(account.customer);
      if (lists !== undefined && lists.deny.size > 0 && lists.deny.has(address) && !lists.allow.has(address)) return false;
    }
    const networks = account.allowedNetworks;
    if (networks === null || networks.length === 0) return account.authMode === 'password';
    if (account.authMode === 'ip-port') {
      let sources = this.hostPorts.get(account);
      if (sources === undefined) {
        sources = networks.map(hostPortSource);
        this.hostPorts.set(account, sources);
      }
      for (const src of sources) if ((src.port === null || src.port === flow.remotePort) && src.list.has(address)) return true;
      return false;
    }
    let list = this.allowedNetworks.get(account);
    if (list === undefined) {
      list = AddressList.build(networks.map((cidr) => ({ cidr: stripPort(cidr), value: null })));
      this.allowedNetworks.set(account, list);
    }
    return list.has(address);
  }

  /** Whether the source is trusted for this account (global or its customer's allow list). */
  private trusted(flow: Flow, customer: string | null): boolean {
    if (this.deps.gate.isAllowListed(flow.remoteAddress)) return true;
    if (customer === null) return false;
    const lists = this.customers.get(customer);
    return lists !== undefined && lists.allow.size > 0 && lists.allow.has(flow.remoteAddress);
  }

  /**
   * A failed authentication: logged, counted toward the source's (and username's) lockout,
   * and 'forbid' when this registration attempt (Call-ID) is over its retry limit.
   */
  authFailed(inbound: InboundRequest, username: string, domain: string, customer: string | null, reason: FailureReason, detail: string | null): 'challenge' | 'forbid' {
    const flow = inbound.flow;
    if (this.trusted(flow, customer)) {
      this.failed(inbound, username, reason, detail);
      return 'challenge';
    }
    const p = this.deps.policy();
    const v = this.tracker.fail(flow.remoteAddress, `${username}@${domain}`, inbound.msg.callId, this.deps.now());
    const until = p.duration === 0 ? null : this.deps.now() + p.duration * 1000;
    if (v.blockSource) {
      this.deps.gate.block(flow.remoteAddress, until);
      this.deps.block('address', flow.remoteAddress, `${p.maxFailures} failed authentications within ${p.window} s`, until);
    }
    if (v.blockUsername) {
      this.blockedUsernames.set(`${username}@${domain}`, until);
      this.deps.block('username', `${username}@${domain}`, `${p.maxUsernameFailures} failed authentications within ${p.window} s`, until);
    }
    // One row per failed request: the retry limit, when this failure crossed it, is its reason.
    if (v.forbid) {
      this.failed(inbound, username, 'retry-limit', `${reason}; more than ${p.maxAttemptsPerCallId} failed attempts with Call-ID ${inbound.msg.callId}`);
      return 'forbid';
    }
    this.failed(inbound, username, reason, detail);
    return 'challenge';
  }

  authSucceeded(inbound: InboundRequest, username: string, domain: string): void {
    this.deps.gate.trust(inbound.flow.remoteAddress, this.deps.now());
    this.tracker.succeed(inbound.flow.remoteAddress, `${username}@${domain}`, inbound.msg.callId);
  }

  /** Records a failed registration in the failure log. */
  failed(inbound: InboundRequest, username: string | null, reason: FailureReason, detail: string | null): void {
    const flow = inbound.flow;
    this.deps.recordFailure({
      time: this.deps.now(),
      sourceAddress: flow.remoteAddress,
      sourcePort: flow.remotePort,
      transport: flow.transport,
      username,
      userAgent: inbound.msg.userAgent,
      reason,
      detail,
      count: 1,
    });
  }
}

/** `10.0.0.5:5062`, `[2001:db8::5]:5062` or a bare address or network (any port). */
function hostPortSource(entry: string): { list: AddressList<unknown>; port: number | null } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(entry) ?? /^([^:]+):(\d+)$/.exec(entry);
  if (m === null) return { list: AddressList.build([{ cidr: entry, value: null }]), port: null };
  return { list: AddressList.build([{ cidr: m[1]!, value: null }]), port: Number(m[2]) };
}

function stripPort(entry: string): string {
  const m = /^\[([^\]]+)\]:\d+$/.exec(entry) ?? /^([^:/]+):\d+$/.exec(entry);
  return m === null ? entry : m[1]!;
}
