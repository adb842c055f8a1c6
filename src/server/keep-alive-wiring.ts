// Keep-alive of a running server (SPEC §6): the ping schedule fed by the binding table, pings
// sent from the socket each binding registered on, answers taken from the transport layer,
// reachability changes recorded (and bindings removed) by the registrar.

import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { Binding } from '../registrar/binding.js';
import type { BindingTable } from '../registrar/binding-table.js';
import { KEEP_ALIVE_TICK_MS, KeepAlive } from '../registrar/keep-alive.js';
import type { Registrar } from '../registrar/registrar.js';
import type { TransportLayer } from '../transport/transport-layer.js';
import type { Listener } from '../transport/transport.js';

export interface ServerKeepAlive {
  readonly keepAlive: KeepAlive;
  stop(): void;
}

export function wireKeepAlive(table: BindingTable, registrar: Registrar, transport: TransportLayer, config: () => Config, log: Logger): ServerKeepAlive {
  // The UDP socket a binding came in on, by local address and port.
  const udp = new Map<string, Listener>();
  for (const l of transport.listeners) if (l.transport === 'UDP') udp.set(`${l.localAddress}|${l.localPort}`, l);
  const own = [...transport.ownAddresses()];
  const fallbackHost = (v6: boolean) => own.find((a) => a.includes(':') === v6 && a !== '::1' && !a.startsWith('127.')) ?? (v6 ? '::1' : '127.0.0.1');

  const keepAlive = new KeepAlive({
    settings: () => config().nat.keepAlive,
    sendDatagram: (b: Binding, buf: Buffer) => {
      const l = udp.get(`${b.localAddress}|${b.localPort}`);
      if (l === undefined) return false;
      try {
        l.sendTo(buf, b.sourceAddress, b.sourcePort);
        return true;
      } catch (err) {
        log.debug({ err, to: `${b.sourceAddress}:${b.sourcePort}` }, 'keep-alive not sent');
        return false;
      }
    },
    // A wildcard bind has no address of its own to put in the Via: one of the machine's.
    localHost: (b) => (b.localAddress === '0.0.0.0' || b.localAddress === '::' ? fallbackHost(b.localAddress === '::') : b.localAddress),
    onUnreachable: (b, reason) => registrar.reachability(b, 'unreachable', reason, config().nat.keepAlive.removeUnreachable),
    onReachable: (b) => registrar.reachability(b, 'reachable', 'answers keep-alive pings again', false),
    userAgent: () => config().sip.serverHeader,
    now: Date.now,
  });
  table.onPut = (b) => keepAlive.track(b);
  table.onRemove = (b) => keepAlive.untrack(b);
  for (const b of table.snapshot()) keepAlive.track(b);
  // The ring turns by the clock, not by the timer: slots a late timer (a busy event loop)
  // owes are made up two per firing rather than all at once, which would be the burst the
  // ring is there to avoid; after a stall longer than a whole turn the count starts afresh.
  const startedAt = Date.now();
  let turned = 0;
  const timer = setInterval(() => {
    const owed = Math.floor((Date.now() - startedAt) / KEEP_ALIVE_TICK_MS);
    if (owed - turned > (config().nat.keepAlive.interval * 1000) / KEEP_ALIVE_TICK_MS) turned = owed - 1;
    for (let n = 0; turned < owed && n < 2; n++, turned++) keepAlive.tick();
  }, KEEP_ALIVE_TICK_MS);
  return {
    keepAlive,
    stop() {
      clearInterval(timer);
      table.onPut = null;
      table.onRemove = null;
    },
  };
}
