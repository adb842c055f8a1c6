// Keep-alive of a running server (SPEC §6): the ping schedule fed by the binding table, pings
// sent from the socket each binding registered on, answers taken from the transport layer
// (from the UDP receiver threads on each timer tick, or as they arrive on the event loop),
// reachability changes recorded (and bindings removed) by the registrar. Also lost flows
// (RFC 5626 §4.4.1): when the connection a binding registered over closes, nothing can reach
// the endpoint through it any more — the binding is marked unreachable at once, or removed
// (`nat.lostConnection`, like Kamailio's handle_lost_tcp), whatever the keep-alive target.

import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { Binding } from '../registrar/binding.js';
import type { BindingTable } from '../registrar/binding-table.js';
import { KEEP_ALIVE_TICK_MS, KeepAlive } from '../registrar/keep-alive.js';
import { PING_SEQ_LIMIT } from '../registrar/options-ping.js';
import type { Registrar } from '../registrar/registrar.js';
import type { TransportLayer } from '../transport/transport-layer.js';
import type { Connection, Listener } from '../transport/transport.js';

/** Pings sent in one go before the event loop gets to its I/O again. */
const PING_BATCH = 8;

/** Bindings re-tracked in one go after a settings change (~1.5 ms of work). */
export const RETRACK_SLICE = 5000;

export interface ServerKeepAlive {
  readonly keepAlive: KeepAlive;
  /** The schedule's timer is running: false while nothing is to be pinged. */
  readonly awake: boolean;
  /** The transport layer saw a stream connection close. */
  connectionClosed(conn: Connection): void;
  /** A `nat.keepAlive` setting changed at run time. */
  settingsChanged(): void;
  stop(): void;
}

export function wireKeepAlive(table: BindingTable, registrar: Registrar, transport: TransportLayer, config: () => Config, log: Logger): ServerKeepAlive {
  // The UDP sockets by local port (then address): the one a binding came in on is found
  // without making a key string per ping.
  const udp = new Map<number, Listener[]>();
  const udpListeners = transport.listeners.filter((l) => l.transport === 'UDP');
  for (const l of udpListeners) {
    const list = udp.get(l.localPort);
    if (list === undefined) udp.set(l.localPort, [l]);
    else list.push(l);
  }
  // A send ticket is its sender thread's: the keep-alive is given it with the listener's
  // place folded in (ticket × listeners + place), so that sendDelay() needs no binding.
  const udpPlace = new Map(udpListeners.map((l, i) => [l, i]));
  const folds = Math.max(1, udpListeners.length);
  const udpListener = (b: Binding): Listener | undefined => {
    const list = udp.get(b.localPort);
    if (list !== undefined) for (let i = 0; i < list.length; i++) if (list[i]!.localAddress === b.localAddress) return list[i];
    return undefined;
  };
  const own = [...transport.ownAddresses()];
  const fallbackHost = (v6: boolean) => own.find((a) => a.includes(':') === v6 && a !== '::1' && !a.startsWith('127.')) ?? (v6 ? '::1' : '127.0.0.1');

  const keepAlive = new KeepAlive({
    settings: () => config().nat.keepAlive,
    sendDatagram: (b: Binding, buf: Buffer) => {
      const l = udpListener(b);
      if (l === undefined) return -1;
      try {
        // A ping can wait for the end of this batch: with a sender thread, the batch goes in one call.
        if (l.sendSoon !== undefined) {
          const ticket = l.sendSoon(buf, b.sourceAddress, b.sourcePort);
          return ticket < 0 ? -1 : ticket * folds + udpPlace.get(l)!;
        }
        l.sendTo(buf, b.sourceAddress, b.sourcePort);
      } catch (err) {
        log.debug({ err, to: `${b.sourceAddress}:${b.sourcePort}` }, 'keep-alive not sent');
      }
      return -1;
    },
    sendDelay: (ticket) => udpListeners[ticket % folds]?.sendDelay?.(Math.floor(ticket / folds)) ?? 0,
    // A wildcard bind has no address of its own to put in the Via: one of the machine's.
    localHost: (b) => (b.localAddress === '0.0.0.0' || b.localAddress === '::' ? fallbackHost(b.localAddress === '::') : b.localAddress),
    onUnreachable: (b, reason) => registrar.reachability(b, 'unreachable', reason, config().nat.keepAlive.removeUnreachable),
    onReachable: (b) => registrar.reachability(b, 'reachable', 'answers keep-alive pings again', false),
    userAgent: () => config().sip.serverHeader,
    now: Date.now,
  });
  // The UDP receiver threads keep the answers to these pings for takePingAnswers() below.
  transport.setPingMarker(keepAlive.branchStartBytes, PING_SEQ_LIMIT);
  const pingAnswer = (seq: number, atMs: number) => {
    keepAlive.onPingAnswer(seq, atMs);
  };
  // Bindings by the connection they registered over. A binding that moved to another
  // connection stays in its old one's set until that closes; it is skipped there because its
  // `connection` is no longer that one.
  const byConnection = new Map<Connection, Set<Binding>>();
  let stopped = false;
  /** Which settings change's re-tracking walk is the current one. */
  let retrackWalk = 0;
  const put = (b: Binding) => {
    keepAlive.track(b);
    wake();
    const conn = b.connection;
    if (conn === null) return;
    let set = byConnection.get(conn);
    if (set === undefined) {
      if (conn.closed) return; // closed before its REGISTER was answered: nothing to watch
      byConnection.set(conn, (set = new Set()));
    }
    set.add(b);
    if (b.reachable === false && !conn.closed) {
      // Registered again over a live connection: reachable through it. Recorded after the
      // REGISTER's own changes, which the registrar is still assembling.
      b.reachable = true;
      b.misses = 0;
      queueMicrotask(() => registrar.reachability(b, 'reachable', 'registered again over a new connection', false));
    }
  };
  table.onPut = put;
  // Answers of reachable endpoints wait in the keep-alive's ledger until the next visit: one
  // shown before then takes its answer now.
  table.onShow = (b) => {
    keepAlive.settle(b);
  };
  table.onRemove = (b) => {
    keepAlive.untrack(b);
    if (b.connection !== null) byConnection.get(b.connection)?.delete(b);
  };
  // The ring turns by the clock, not by the timer: slots a late timer (a busy event loop)
  // owes are made up two per firing rather than all at once, which would be the burst the
  // ring is there to avoid; after a stall longer than a whole turn the count starts afresh.
  // A slot's pings go out in batches of PING_BATCH with the event loop's I/O between them
  // (setImmediate runs after the poll phase): a REGISTER arriving during a slot waits for one
  // batch, not for all of the slot's ~33 pings and their answers. With nothing in the ring
  // the timer stops (an idle server is not woken 100 times a second), and the next endpoint
  // to be tracked starts it again.
  let timer: NodeJS.Timeout | null = null;
  let startedAt = 0;
  let turned = 0;
  let working = false;
  const work = () => {
    if (!stopped && keepAlive.work(PING_BATCH)) setImmediate(work);
    else working = false;
  };
  const fire = () => {
    if (keepAlive.size === 0 && !working) {
      // Nothing to ping, and nothing of the last slot left: asleep until wake().
      clearInterval(timer!);
      timer = null;
      return;
    }
    // Answers first: one that came in just before its endpoint's slot is not judged a miss.
    transport.takePingAnswers(pingAnswer);
    const owed = Math.floor((Date.now() - startedAt) / KEEP_ALIVE_TICK_MS);
    if (owed - turned > (config().nat.keepAlive.interval * 1000) / KEEP_ALIVE_TICK_MS) turned = owed - 1;
    let more = false;
    for (let n = 0; turned < owed && n < 2; n++, turned++) more = keepAlive.tick(working ? 0 : PING_BATCH);
    if (more && !working) {
      working = true;
      setImmediate(work);
    }
  };
  /** Starts the timer, stopped while nothing was to be pinged. */
  function wake(): void {
    if (timer !== null || stopped || keepAlive.size === 0) return;
    startedAt = Date.now();
    turned = 0;
    timer = setInterval(fire, KEEP_ALIVE_TICK_MS);
  }
  for (const b of table.snapshot()) put(b);
  return {
    keepAlive,
    get awake() {
      return timer !== null;
    },
    connectionClosed(conn) {
      // A stopping server closes every connection itself: that says nothing about the
      // endpoints, and with `remove` it would delete every stream binding.
      if (stopped) return;
      const set = byConnection.get(conn);
      if (set === undefined) return;
      byConnection.delete(conn);
      const remove = config().nat.lostConnection === 'remove';
      const where = `${conn.transport} connection from ${conn.remoteAddress.includes(':') ? `[${conn.remoteAddress}]` : conn.remoteAddress}:${conn.remotePort} closed`;
      for (const b of set) {
        if (b.connection !== conn || !b.inTable) continue;
        if (b.reachable === false && !remove) continue;
        b.reachable = false;
        registrar.reachability(b, 'unreachable', where, remove);
      }
    },
    settingsChanged() {
      // Turned on, or from `nat` to `all`: the bindings the old settings left out are pinged
      // from now on, not from their next REGISTER (up to an hour away). Those no longer
      // wanted leave the ring here too, rather than as their slots come up. In slices with
      // the event loop's I/O between them: all 100,000 at once held REGISTERs up for
      // 15–32 ms. Meanwhile the ring asks each binding whether it is still wanted before
      // pinging it, and bindings that register are tracked by put(), so the walk can lag.
      const all = table.snapshot();
      const walk = ++retrackWalk;
      let at = 0;
      const slice = () => {
        if (stopped || walk !== retrackWalk) return; // stopped, or a newer change walks instead
        const end = Math.min(all.length, at + RETRACK_SLICE);
        for (; at < end; at++) keepAlive.track(all[at]!);
        wake();
        if (at < all.length) setImmediate(slice);
      };
      slice();
    },
    stop() {
      stopped = true;
      byConnection.clear();
      if (timer !== null) clearInterval(timer);
      timer = null;
      table.onPut = null;
      table.onRemove = null;
      table.onShow = null;
    },
  };
}
