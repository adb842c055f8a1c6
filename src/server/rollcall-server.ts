// The composition root of `rollcall serve`: opens the store, restores the bindings, starts
// the transports, and wires transport → transaction → endpoint → registrar. Everything
// with a side effect is created here and passed down.

import { randomBytes } from 'node:crypto';
import type { Server } from 'node:net';
import type { Logger } from 'pino';
import { AccountDirectory } from '../auth/account-directory.js';
import { NonceService } from '../auth/nonce.js';
import { parseListenAddress, type ListenAddress } from '../config/listen-address.js';
import type { Config } from '../config/schema.js';
import { controlSocketPath, startControlServer, type ControlRequest } from '../control/control-channel.js';
import { SipEndpoint } from '../endpoint/sip-endpoint.js';
import { Binding } from '../registrar/binding.js';
import { BindingTable } from '../registrar/binding-table.js';
import { DomainResolver } from '../registrar/domain-resolver.js';
import { Registrar, type RegistrarSettings } from '../registrar/registrar.js';
import { openSqliteStore, type SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { StoreOp } from '../store/store.js';
import { TransactionLayer } from '../transaction/server-transactions.js';
import { TransportLayer } from '../transport/transport-layer.js';
import { bindingView, type BindingView } from './binding-view.js';

const NONCE_SECRET_KEY = 'auth.nonceSecret';
const PRUNE_EVERY_MS = 10 * 60 * 1000;

export interface RunningServer {
  readonly config: Config;
  readonly store: SqliteStore;
  readonly transport: TransportLayer;
  readonly registrar: Registrar;
  readonly table: BindingTable;
  close(): Promise<void>;
}

function settingsOf(c: Config): RegistrarSettings {
  return {
    policy: {
      defaultExpires: c.registrar.defaultExpires,
      minExpires: c.registrar.minExpires,
      maxExpires: c.registrar.maxExpires,
      maxBindings: c.registrar.maxBindings,
      replacePolicy: c.registrar.replacePolicy,
      expirySpread: c.registrar.expirySpread,
    },
    expiringShare: c.registrar.expiringShare,
    algorithms: c.auth.algorithms,
    recordRefreshes: c.history.recordRefreshes,
    serverHeader: c.sip.serverHeader,
  };
}

/** The nonce secret survives restarts (and is shared by every process on this data). */
function nonceSecret(store: SqliteStore): Buffer {
  const existing = store.settings.get(NONCE_SECRET_KEY);
  if (typeof existing === 'string' && existing.length >= 32) return Buffer.from(existing, 'base64');
  const fresh = randomBytes(32);
  store.settings.set(NONCE_SECRET_KEY, fresh.toString('base64'));
  return fresh;
}

export async function startServer(config: Config, log: Logger): Promise<RunningServer> {
  const store = openSqliteStore({ dataDir: config.store.dataDir, synchronous: config.store.synchronous, journal: 'worker' });
  const settings = settingsOf(config);
  const now = Date.now();

  // Restore the bindings; those that expired while we were down become history.
  const table = new BindingTable(now, () => settings.expiringShare);
  const expiredOps: StoreOp[] = [];
  for (const r of store.bindings.loadAll()) {
    if (r.expiresAt <= now) {
      expiredOps.push({ op: 'delete-binding', id: r.id });
      expiredOps.push({
        op: 'event',
        event: {
          time: r.expiresAt,
          type: 'expired',
          aor: r.aor,
          contact: r.contact,
          bindingId: r.id,
          sourceAddress: r.sourceAddress,
          sourcePort: r.sourcePort,
          transport: r.transport,
          userAgent: r.userAgent,
          reason: 'expired while the server was stopped',
        },
      });
    } else {
      table.put(Binding.fromRecord(r));
    }
  }
  if (expiredOps.length) store.bindings.applyNow(expiredOps);
  log.info({ restored: table.size, expiredWhileDown: expiredOps.length / 2 }, 'bindings restored');

  const listen: ListenAddress[] = config.sip.listen.map((s) => parseListenAddress(s) as ListenAddress);
  let transactions: TransactionLayer | null = null;
  let endpoint: SipEndpoint | null = null;
  const transport = await TransportLayer.start({
    listen,
    maxMessageSize: config.sip.maxMessageSize,
    udpReceiveBuffer: config.sip.udpReceiveBuffer,
    udpSendBuffer: config.sip.udpSendBuffer,
    tcpIdleTimeout: config.sip.tcpIdleTimeout,
    forceRport: config.sip.forceRport,
    serverHeader: config.sip.serverHeader,
    onRequest: (req) => transactions!.receive(req),
    onResponse: () => {
      // No client transactions yet (keep-alive and outbound registration come later).
    },
    log,
  }).catch(async (err: Error) => {
    await store.close();
    throw err;
  });

  const ownAddresses = transport.ownAddresses();
  const domainSources = () => ({
    configured: config.registrar.domains,
    defaultDomain: config.registrar.defaultDomain,
    aliases: config.registrar.aliases,
    ownAddresses,
    accountDomains: store.accounts.domains(),
  });
  const domains = new DomainResolver(domainSources());
  const accounts = new AccountDirectory(store.accounts);

  const registrar = new Registrar({
    table,
    journal: store.journal,
    accounts,
    nonces: new NonceService({ secret: nonceSecret(store), lifetime: config.auth.nonceLifetime }, now),
    domains,
    settings: () => settings,
    firstBindingId: store.bindings.maxId() + 1,
    log,
    onKicked: (b, by) => log.info({ aor: b.aor, kicked: b.contact, by: by.contact }, 'binding kicked by replace policy'),
  });
  endpoint = new SipEndpoint({
    registrar,
    table,
    domains,
    transactions: () => transactions!,
    serverHeader: () => settings.serverHeader,
  });
  const ep = endpoint;
  transactions = new TransactionLayer({
    send: (flow, target, buf) => transport.sendResponse(flow, target, buf),
    onRequest: (tx) => ep.onRequest(tx),
  });

  let lastPrune = 0;
  const clock = setInterval(() => {
    registrar.tick();
    // Accounts changed by another process (the CLI): forget cached ones, re-read domains.
    if (accounts.revalidate()) domains.update(domainSources());
    const t = Date.now();
    if (t - lastPrune >= PRUNE_EVERY_MS) {
      lastPrune = t;
      const pruned = store.events.prune(t - config.history.retentionDays * 86_400_000);
      if (pruned > 0) log.info({ pruned }, 'old registration history pruned');
    }
  }, 1000);

  let control: Server | null = null;
  try {
    control = await startControlServer(config.store.dataDir, (req: ControlRequest) => {
      switch (req.cmd) {
        case 'status':
          return Promise.resolve({
            bindings: table.size,
            aors: table.aorCount,
            listen: transport.listeners.map((l) => `${l.transport.toLowerCase()}:${l.localAddress}:${l.localPort}`),
            uptimeSeconds: Math.round(process.uptime()),
            memory: process.memoryUsage(),
            registrar: registrar.counters,
            transport: transport.counters,
            journal: store.journal.stats,
          });
        case 'registrations.list': {
          const t = Date.now();
          const rows: BindingView[] = [];
          for (const b of table.all()) rows.push(bindingView(b, t, settings.expiringShare));
          return Promise.resolve(rows);
        }
        case 'registrations.remove':
          return new Promise((resolve, reject) =>
            registrar.forceRemove(req.aor, req.contact, req.who, (removed, err) => (err ? reject(err) : resolve({ removed }))),
          );
        default:
          return Promise.reject(new Error(`unknown command ${(req as { cmd: string }).cmd}`));
      }
    });
  } catch (err) {
    log.warn({ err, path: controlSocketPath(config.store.dataDir) }, 'control socket not available; `rollcall registrations remove` will not reach this server');
  }

  for (const l of transport.listeners) log.info({ transport: l.transport, address: l.localAddress, port: l.localPort }, 'listening');
  log.info({ domains: domains.domains(), defaultDomain: domains.default, dataDir: config.store.dataDir }, 'Rollcall is ready');
  if (store.accounts.domains().length === 0) {
    log.warn('no accounts yet: add one with `rollcall accounts add USER --domain DOMAIN --password PASS`');
  }

  let closed = false;
  return {
    config,
    store,
    transport,
    registrar,
    table,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(clock);
      await new Promise<void>((resolve) => (control ? control.close(() => resolve()) : resolve()));
      await transport.close();
      transactions?.close();
      await store.close();
    },
  };
}
