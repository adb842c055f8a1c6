// SIP security of a running server (SPEC §7): the source gate and scanner check in front of
// the transport layer, the registrar's guard, the failure log written through the journal,
// and the stored lists and blocks kept in step with the database (the CLI and the API change
// them; a counter in the database says when).

import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { isSipUri } from '../sip/message.js';
import { AddressList } from '../security/address-list.js';
import { FailureAggregator } from '../security/failure-aggregator.js';
import { KernelFilter } from '../security/kernel-filter.js';
import { SipInboundGuard } from '../security/inbound-guard.js';
import { RegistrationGuard, type CustomerLists } from '../security/registration-guard.js';
import { SourceGate } from '../security/source-gate.js';
import type { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { BlockRecord, FailureRecord, RegistrationEvent, StoreOp } from '../store/store.js';

export interface ServerSecurity {
  readonly gate: SourceGate;
  readonly inbound: SipInboundGuard;
  readonly registration: RegistrationGuard;
  /**
   * Once a second: writes the aggregated failures, reloads lists and blocks if they changed,
   * and the accounts' auth modes when the caller saw an account change.
   */
  tick(accountsChanged: boolean): void;
  /** Re-reads which accounts authenticate by source address. */
  accountsChanged(): void;
  /** Re-reads lists, blocks and the accounts' auth modes now (after a change made here). */
  reload(): void;
  /** Stores a block and applies it at once; recorded as an event. */
  block(kind: BlockRecord['kind'], value: string, reason: string, until: number | null, by: string): void;
  /** Lifts a block; recorded as an event. False when there was none. */
  unblock(kind: BlockRecord['kind'], value: string, by: string): boolean;
  /** Hands blocked addresses to the kernel for these SIP ports (security.kernelFilter). */
  startKernelFilter(ports: readonly number[]): void;
  /** Takes what the kernel filter put in the kernel out again. */
  stop(): void;
  readonly kernel: KernelFilter;
}

const noop = () => {};

export function wireSecurity(store: SqliteStore, config: () => Config, log: Logger, onEvent: (e: RegistrationEvent) => void): ServerSecurity {
  const gate = new SourceGate(() => config().security);
  const kernel = new KernelFilter(log);
  // The kernel drops silently: while blocked sources are to get 403, it holds nothing.
  const kernelDrops = () => config().security.unauthorizedResponse === 'drop';
  let kernelHolding = kernelDrops();
  /** Address blocks as the gate has them (address → end), for the kernel's copy. */
  let addressBlocks = new Map<string, number | null>();
  const aggregator = new FailureAggregator();
  const recordFailure = (f: FailureRecord) => store.journal.submit([{ op: 'failure', failure: f }], noop);

  const event = (type: 'blocked' | 'unblocked', kind: BlockRecord['kind'], value: string, reason: string) => {
    const e: RegistrationEvent = {
      time: Date.now(),
      type,
      aor: kind === 'username' ? `sip:${value}` : null,
      contact: null,
      bindingId: null,
      sourceAddress: kind === 'address' ? value : null,
      sourcePort: null,
      transport: null,
      userAgent: null,
      reason,
    };
    store.journal.submit([{ op: 'event', event: e }], (err) => {
      if (err === null) onEvent(e);
    });
  };

  /** The blocks this server knows of, by `kind value`: a reload's difference is another process's doing. */
  let known = new Map<string, BlockRecord>();
  const blockKey = (kind: string, value: string) => `${kind} ${value}`;

  const block = (kind: BlockRecord['kind'], value: string, reason: string, until: number | null, by: string) => {
    const now = Date.now();
    const record: BlockRecord = { kind, value, reason, createdAt: now, expiresAt: until, createdBy: by };
    store.blocks.put(record);
    known.set(blockKey(kind, value), record);
    if (kind === 'address') {
      gate.block(value, until);
      addressBlocks.set(value, until);
      if (kernelHolding) kernel.add(value, until);
    } else registration.setBlockedUsernames(new Map([...usernameBlocks(), [value, until]]));
    log.warn({ kind, value, reason, until: until === null ? null : new Date(until).toISOString(), by }, 'SIP source blocked');
    event('blocked', kind, value, `${reason} (by ${by})`);
  };

  const registration = new RegistrationGuard({
    gate,
    policy: () => {
      const l = config().security.lockout;
      return {
        maxFailures: l.maxFailures,
        window: l.window,
        duration: l.duration,
        perUsername: l.perUsername,
        maxUsernameFailures: l.maxUsernameFailures,
        maxAttemptsPerCallId: l.maxAttemptsPerCallId,
      };
    },
    recordFailure,
    block: (kind, value, reason, until) => block(kind, value, reason, until, 'auto'),
    now: Date.now,
  });

  gate.onFlood = (address) => {
    const f = config().security.floodBlock;
    block('address', address, `flood: ${f.threshold} requests over the rate limit within ${f.window} s`, f.duration === 0 ? null : Date.now() + f.duration * 1000, 'auto');
  };

  const inbound = new SipInboundGuard({
    gate,
    aggregator,
    settings: () => config().security,
    onScanner: (msg, flow, reason, shouldBlock) => {
      recordFailure({
        time: Date.now(),
        sourceAddress: flow.remoteAddress,
        sourcePort: flow.remotePort,
        transport: flow.transport,
        username: isSipUri(msg.to.uri) ? msg.to.uri.user : null,
        userAgent: msg.userAgent,
        reason,
        detail: `${msg.method} from a scanner User-Agent`,
        count: 1,
      });
      if (shouldBlock && !gate.isBlocked(flow.remoteAddress, Date.now())) {
        const d = config().security.lockout.duration;
        block('address', flow.remoteAddress, `scanner User-Agent ${JSON.stringify(msg.userAgent)}`, d === 0 ? null : Date.now() + d * 1000, 'auto');
      }
    },
  });

  let usernames = new Map<string, number | null>();
  const usernameBlocks = () => usernames;
  let version = -1;
  let listsVersion = -1;

  const reloadBlocks = (announce: boolean) => {
    const now = Date.now();
    const blocks = store.blocks.list(now);
    const addresses = new Map<string, number | null>();
    usernames = new Map();
    const next = new Map<string, BlockRecord>();
    for (const b of blocks) {
      (b.kind === 'address' ? addresses : usernames).set(b.value, b.expiresAt);
      const key = blockKey(b.kind, b.value);
      next.set(key, b);
      // Made by another process (the CLI): recorded as an event here, like our own.
      if (announce && !known.has(key)) event('blocked', b.kind, b.value, `${b.reason} (by ${b.createdBy})`);
    }
    if (announce) {
      for (const [key, b] of known) {
        if (!next.has(key) && (b.expiresAt === null || b.expiresAt > now)) event('unblocked', b.kind, b.value, 'by another process (cli)');
      }
    }
    known = next;
    gate.setBlocks(addresses);
    addressBlocks = new Map(addresses);
    if (kernelHolding) kernel.replaceAll(addresses);
    registration.setBlockedUsernames(usernames);
  };

  // Lists can hold 100,000 entries: rebuilt only when they changed, never for a block.
  const reloadLists = () => {
    const globalAllow: string[] = [];
    const globalDeny: string[] = [];
    const perCustomer = new Map<string, { allow: string[]; deny: string[] }>();
    for (const e of store.addressLists.all()) {
      if (e.customer === null) (e.list === 'allow' ? globalAllow : globalDeny).push(e.cidr);
      else {
        let c = perCustomer.get(e.customer);
        if (c === undefined) perCustomer.set(e.customer, (c = { allow: [], deny: [] }));
        c[e.list].push(e.cidr);
      }
    }
    const build = (cidrs: string[]) => AddressList.build(cidrs.map((cidr) => ({ cidr, value: null })));
    gate.setLists(build(globalAllow), build(globalDeny));
    const lists = new Map<string, CustomerLists>();
    for (const [name, c] of perCustomer) lists.set(name, { allow: build(c.allow), deny: build(c.deny) });
    registration.setCustomerLists(lists);
  };

  const reload = () => {
    version = store.blocks.securityVersion();
    listsVersion = store.addressLists.version();
    reloadBlocks(false);
    reloadLists();
  };

  const reloadAccounts = () => {
    registration.ipAccounts = store.accounts.countAddressAuthenticated() > 0;
  };

  return {
    gate,
    inbound,
    registration,
    tick(accountsChanged) {
      const rows = aggregator.drain();
      if (rows.length > 0) {
        const ops: StoreOp[] = rows.map((failure) => ({ op: 'failure', failure }));
        store.journal.submit(ops, noop);
      }
      const v = store.blocks.securityVersion();
      if (v !== version) {
        version = v;
        const lv = store.addressLists.version();
        if (lv !== listsVersion) {
          listsVersion = lv;
          reloadLists();
        }
        reloadBlocks(true);
      }
      if (accountsChanged) reloadAccounts();
      if (kernelDrops() !== kernelHolding) {
        kernelHolding = !kernelHolding;
        kernel.replaceAll(kernelHolding ? addressBlocks : new Map());
      }
    },
    reload() {
      reload();
      reloadAccounts();
    },
    accountsChanged: reloadAccounts,
    block,
    unblock(kind, value, by) {
      const removed = store.blocks.remove(kind, value);
      known.delete(blockKey(kind, value));
      if (kind === 'address') {
        gate.unblock(value);
        addressBlocks.delete(value);
        kernel.remove(value);
        registration.forgetSource(value);
      } else {
        usernames.delete(value);
        registration.forgetUsername(value);
      }
      if (removed) {
        log.info({ kind, value, by }, 'SIP block removed');
        event('unblocked', kind, value, `by ${by}`);
      }
      return removed;
    },
    kernel,
    startKernelFilter(ports) {
      kernel.start(config().security.kernelFilter, ports, kernelHolding ? addressBlocks : new Map());
    },
    stop() {
      kernel.stop();
    },
  };
}
