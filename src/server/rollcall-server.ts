// The composition root of `rollcall serve`: opens the store, restores the bindings, starts
// the transports, and wires transport → transaction → endpoint → registrar. Everything
// with a side effect is created here and passed down.

import { randomBytes } from 'node:crypto';
import type { Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { AccountDirectory } from '../auth/account-directory.js';
import { NonceService } from '../auth/nonce.js';
import { parseListenAddress, type ListenAddress } from '../config/listen-address.js';
import type { Config } from '../config/schema.js';
import { loadTlsCredentials } from '../config/tls-credentials.js';
import { controlSocketPath, startControlServer, type ControlRequest } from '../control/control-channel.js';
import { SipEndpoint } from '../endpoint/sip-endpoint.js';
import { Binding } from '../registrar/binding.js';
import { BindingTable } from '../registrar/binding-table.js';
import { DomainResolver } from '../registrar/domain-resolver.js';
import { Registrar, type RegistrarSettings } from '../registrar/registrar.js';
import { openSqliteStore, type SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { StoreOp } from '../store/store.js';
import { TransactionLayer } from '../transaction/server-transactions.js';
import { UdpListener } from '../transport/udp-listener.js';
import { TransportLayer } from '../transport/transport-layer.js';
import { bindingView, type BindingView } from './binding-view.js';
import { buildApiServer } from '../api/api-server.js';
import { wireSecurity } from './security-wiring.js';
import { wireKeepAlive, type ServerKeepAlive } from './keep-alive-wiring.js';
import { LoginLockout } from '../api/login-lockout.js';
import { RegistrationStream } from '../api/registration-stream.js';
import { applyChanges, storeOverride, storedOverrides, type RuntimeKey } from '../config/runtime-settings.js';
import { mergeTrees, treeOfDotted, validateConfig } from '../config/load-config.js';

/** The built console, beside the compiled server (dist/web). */
const WEB_ROOT = fileURLToPath(new URL('../web', import.meta.url));

const NONCE_SECRET_KEY = 'auth.nonceSecret';
const PRUNE_EVERY_MS = 10 * 60 * 1000;

export interface RunningServer {
  readonly config: Config;
  readonly store: SqliteStore;
  /** The console and API address (`http://host:port`), or null when `http.listen` is off. */
  readonly httpUrl: string | null;
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
    flowTimer: c.nat.flowTimer,
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

export async function startServer(fileConfig: Config, log: Logger): Promise<RunningServer> {
  // A tls/wss listener without a usable certificate stops the start before anything is opened.
  const tls = loadTlsCredentials(fileConfig.sip.listen.map((s) => parseListenAddress(s) as ListenAddress), fileConfig.sip.tls);
  const store = openSqliteStore({ dataDir: fileConfig.store.dataDir, synchronous: fileConfig.store.synchronous, journal: 'worker' });
  // System parameters changed at run time (API, console) were stored and win over the file.
  let config = fileConfig;
  const overrides = storedOverrides(store.settings);
  if (Object.keys(overrides).length > 0) {
    try {
      config = validateConfig(mergeTrees(fileConfig as unknown as Record<string, unknown>, treeOfDotted(overrides)), 'stored system parameters');
      log.info({ overrides: Object.keys(overrides) }, 'system parameters changed at run time apply over the config file');
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'stored system parameters are not valid with this configuration; ignoring them');
    }
  }
  let settings = settingsOf(config);
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

  let stream: RegistrationStream | null = null;
  let keepAlive: ServerKeepAlive | null = null;
  const security = wireSecurity(store, () => config, log, (e) => stream?.publish(e));
  security.reload();
  const listen: ListenAddress[] = config.sip.listen.map((s) => parseListenAddress(s) as ListenAddress);
  let transactions: TransactionLayer | null = null;
  let endpoint: SipEndpoint | null = null;
  const transport = await TransportLayer.start({
    listen,
    maxMessageSize: config.sip.maxMessageSize,
    udpReceiveBuffer: config.sip.udpReceiveBuffer,
    udpSendBuffer: config.sip.udpSendBuffer,
    udpKeepAliveThreads: config.sip.udpKeepAliveThreads,
    tcpIdleTimeout: config.sip.tcpIdleTimeout,
    tls,
    forceRport: config.sip.forceRport,
    serverHeader: config.sip.serverHeader,
    onRequest: (req) => transactions!.receive(req),
    ...(config.security.enabled ? { guard: security.inbound } : {}),
    // The only requests this server sends yet are keep-alive pings (no client transactions:
    // a ping is judged by the next one, see keep-alive.ts).
    onResponse: (res) => {
      keepAlive?.keepAlive.onResponse(res);
    },
    onRawResponse: (buf) => keepAlive !== null && keepAlive.keepAlive.onRawResponse(buf),
    onConnectionClosed: (conn) => keepAlive?.connectionClosed(conn),
    log,
  }).catch(async (err: Error) => {
    await store.close();
    throw err;
  });

  if (config.security.enabled) {
    try {
      security.startKernelFilter(transport.listeners.map((l) => l.localPort));
    } catch (err) {
      await transport.close();
      await store.close();
      throw err;
    }
  }

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

  const nonces = new NonceService({ secret: nonceSecret(store), lifetime: config.auth.nonceLifetime }, now);
  const registrar = new Registrar({
    table,
    journal: store.journal,
    accounts,
    nonces,
    domains,
    settings: () => settings,
    firstBindingId: store.bindings.maxId() + 1,
    log,
    onKicked: (b, by) => log.info({ aor: b.aor, kicked: b.contact, by: by.contact }, 'binding kicked by replace policy'),
    onEvent: (e) => stream?.publish(e),
    ...(config.security.enabled ? { security: security.registration } : {}),
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

  keepAlive = wireKeepAlive(table, registrar, transport, () => config, log);

  /** Whether any process changed an account since the last look; if so, everything that
   * depends on accounts follows (cache, served domains, auth modes). */
  const accountsChanged = (): boolean => {
    if (!accounts.revalidate()) return false;
    domains.update(domainSources());
    return true;
  };

  let lastPrune = 0;
  const clock = setInterval(() => {
    registrar.tick();
    // Accounts changed by another process (the CLI): forget cached ones, re-read domains and
    // which accounts authenticate by address.
    security.tick(accountsChanged());
    const t = Date.now();
    if (t - lastPrune >= PRUNE_EVERY_MS) {
      lastPrune = t;
      const pruned = store.events.prune(t - config.history.retentionDays * 86_400_000);
      if (pruned > 0) log.info({ pruned }, 'old registration history pruned');
      store.sessions.pruneExpired(t);
      store.audit.prune(t - config.http.auditRetentionDays * 86_400_000);
      store.failures.prune(t - config.security.failureRetentionDays * 86_400_000);
      store.blocks.pruneExpired(t);
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
            // Written as the config and --listen take them (IPv6 in brackets).
            listen: transport.listeners.map((l) => `${l.transport.toLowerCase()}:${l.localAddress.includes(':') ? `[${l.localAddress}]` : l.localAddress}:${l.localPort}`),
            uptimeSeconds: Math.round(process.uptime()),
            memory: process.memoryUsage(),
            registrar: registrar.counters,
            transport: transport.counters,
            keepAlive: { ...(keepAlive?.keepAlive.summary() ?? NO_KEEP_ALIVE), ...keepAliveThreadCounters(transport) },
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

  let http: FastifyInstance | null = null;
  let httpUrl: string | null = null;
  if (config.http.listen !== 'off') {
    stream = new RegistrationStream(
      () => {
        const t = Date.now();
        let expiring = 0;
        let unreachable = 0;
        for (const b of table.all()) {
          if (b.status(t, settings.expiringShare) === 'Expiring') expiring++;
          if (b.reachable === false) unreachable++;
        }
        return {
          registered: table.size - expiring,
          expiring,
          aors: table.aorCount,
          unreachable,
          keepAlive: keepAlive?.keepAlive.summary() ?? NO_KEEP_ALIVE,
        };
      },
      () => registrar.counters.accepted,
    );
    const lockout = new LoginLockout(() => config.http.lockout);
    http = await buildApiServer(
      {
        store,
        table,
        registrar,
        accounts,
        accountsChanged: () => {
          if (accountsChanged()) security.accountsChanged();
        },
        config: () => config,
        changeConfig: (changes) => {
          const r = applyChanges(config, changes);
          if ('error' in r) return r;
          config = r.config;
          settings = settingsOf(config);
          nonces.setLifetime(config.auth.nonceLifetime);
          log.level = config.log.level;
          for (const key of Object.keys(changes)) storeOverride(store.settings, key as RuntimeKey, changes[key]);
          if (Object.keys(changes).some((k) => k.startsWith('nat.keepAlive.'))) keepAlive?.settingsChanged();
          log.info({ changed: Object.keys(changes) }, 'system parameters changed');
          return r;
        },
        stream,
        lockout,
        security,
        log,
        now: Date.now,
      },
      { webRoot: WEB_ROOT },
    );
    const { host, port } = splitHostPort(config.http.listen);
    try {
      await http.listen({ host, port });
    } catch (err) {
      stream.close();
      security.stop();
      await transport.close();
      transactions?.close();
      await store.close();
      throw new Error(`cannot listen for the console and API on ${config.http.listen} (http.listen): ${(err as Error).message}`, { cause: err });
    }
    const addr = http.server.address();
    if (addr !== null && typeof addr === 'object') httpUrl = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
    log.info({ url: httpUrl }, 'HTTP listening');
    if (store.users.countAdmins() === 0) {
      log.warn(`no console user yet: create the first admin with \`rollcall users add NAME --role admin --data-dir ${config.store.dataDir}\`, then log in at ${httpUrl}`);
    }
  }

  for (const l of transport.listeners) log.info({ transport: l.transport, address: l.localAddress, port: l.localPort }, 'listening');
  const udp = transport.listeners.filter((l): l is UdpListener => l instanceof UdpListener);
  if (udp.length > 0 && !config.sip.udpKeepAliveThreads) log.info('UDP keep-alive pings and their answers are handled on the event loop (sip.udpKeepAliveThreads is false)');
  else if (udp.length > 0) {
    for (const l of udp) {
      if (l.threadsUnavailable !== null) log.warn({ address: l.localAddress, port: l.localPort, reason: l.threadsUnavailable }, 'UDP keep-alive pings and their answers are handled on the event loop');
    }
    if (udp.every((l) => l.threadsUnavailable === null)) log.info('UDP keep-alive pings are sent, and their answers read, on threads of their own');
  }
  log.info({ domains: domains.domains(), defaultDomain: domains.default, dataDir: config.store.dataDir }, 'Rollcall is ready');
  if (store.accounts.domains().length === 0) {
    log.warn('no accounts yet: add one with `rollcall accounts add USER --domain DOMAIN --password PASS`');
  }

  let closed = false;
  return {
    get config() {
      return config;
    },
    httpUrl,
    store,
    transport,
    registrar,
    table,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(clock);
      keepAlive?.stop();
      stream?.close();
      if (http !== null) await http.close();
      await new Promise<void>((resolve) => (control ? control.close(() => resolve()) : resolve()));
      security.stop();
      await transport.close();
      transactions?.close();
      await store.close();
    },
  };
}

/** `127.0.0.1:8080`, `[::1]:8080`, `localhost:8080` → host and port (checked by the schema). */
function splitHostPort(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  const host = listen.slice(0, i);
  return { host: host.startsWith('[') ? host.slice(1, -1) : host, port: Number(listen.slice(i + 1)) };
}

/** The keep-alive's figures before it is wired. */
const NO_KEEP_ALIVE = Object.freeze({ endpoints: 0, pings: 0, answers: 0, misses: 0 });

/**
 * What the UDP keep-alive threads (udp-native.ts) did, all sockets together: datagrams the
 * sender threads sent and dropped (and how many of those sent the event loop sent for a
 * starved thread), ping answers the receiver threads kept, datagrams they
 * handed to the event loop and dropped. Nothing when no socket has them.
 */
function keepAliveThreadCounters(transport: TransportLayer): {
  threadSent?: number;
  threadDropped?: number;
  threadLate?: number;
  threadAnswers?: number;
  threadForwarded?: number;
  threadReceiveDropped?: number;
} {
  const out = { threadSent: 0, threadDropped: 0, threadLate: 0, threadAnswers: 0, threadForwarded: 0, threadReceiveDropped: 0 };
  let threads = 0;
  for (const l of transport.listeners) {
    if (!(l instanceof UdpListener) || l.senderThread === null || l.receiverThread === null) continue;
    const s = l.senderThread.counters();
    const r = l.receiverThread.counters();
    out.threadSent += s.sent;
    out.threadDropped += s.dropped;
    out.threadLate += s.late;
    out.threadAnswers += r.pingAnswers;
    out.threadForwarded += r.forwarded;
    out.threadReceiveDropped += r.dropped;
    threads++;
  }
  return threads === 0 ? {} : out;
}
