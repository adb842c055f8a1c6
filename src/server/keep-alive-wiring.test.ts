// The keep-alive as the server wires it, with its own timer: a slot holding more endpoints
// than one batch (PING_BATCH) finishes through the setImmediate continuation, so every
// endpoint is pinged once per interval however full its slot. Without the continuation each
// timer firing would send one or two batches, and with ~60 endpoints per slot most would
// fall behind by whole intervals.

import type { Logger } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { validateConfig } from '../config/load-config.js';
import { Binding } from '../registrar/binding.js';
import { BindingTable } from '../registrar/binding-table.js';
import { pingSeqIn } from '../registrar/options-ping.js';
import type { Registrar } from '../registrar/registrar.js';
import type { TransportLayer } from '../transport/transport-layer.js';
import { RETRACK_SLICE, wireKeepAlive, type ServerKeepAlive } from './keep-alive-wiring.js';

let wired: ServerKeepAlive | null = null;
afterEach(() => {
  wired?.stop();
  wired = null;
});

function binding(i: number, now: number): Binding {
  return Binding.fromRecord({
    id: i, aor: `sip:u${i}@ka.test`, username: `u${i}`, domain: 'ka.test', contact: `sip:u${i}@192.168.1.${i % 250}:5060`,
    instance: null, regId: null, q: null, callId: `c${i}`, cseq: 1, expires: 3600, expiresAt: now + 3_600_000,
    registeredAt: now, refreshedAt: now, sourceAddress: '127.0.0.9', sourcePort: 10_000 + i, transport: 'UDP',
    localAddress: '127.0.0.1', localPort: 5060, userAgent: null, path: [], nat: true,
  });
}

/** A transport layer of one UDP listener without keep-alive threads: answers come in on the event loop. */
function udpTransport(listener: object): TransportLayer {
  return { listeners: [listener], ownAddresses: () => new Set(['127.0.0.1']), setPingMarker: () => {}, takePingAnswers: () => {} } as unknown as TransportLayer;
}

describe('keep-alive wiring', () => {
  it('pings every endpoint once per interval when each slot holds several batches (6,000 endpoints, 100 slots)', async () => {
    const config = validateConfig({ nat: { keepAlive: { interval: 1, target: 'all', maxMisses: 1000 } } }, 'test');
    const now = Date.now();
    const table = new BindingTable(now, () => 0.1);
    const pinged = new Map<number, number>();
    const listener = {
      transport: 'UDP', localAddress: '127.0.0.1', localPort: 5060,
      sendTo: (_buf: Buffer, _address: string, port: number) => pinged.set(port, (pinged.get(port) ?? 0) + 1),
    };
    const transport = udpTransport(listener);
    const registrar = { reachability: () => {} } as unknown as Registrar;
    const log = { debug: () => {} } as unknown as Logger;
    const N = 6000;
    for (let i = 1; i <= N; i++) table.put(binding(i, now));
    wired = wireKeepAlive(table, registrar, transport, () => config, log);
    // One interval and some slack for a loaded machine. Without the continuation a firing
    // sends at most two batches (16 pings): not 6,000 in 2.5 s.
    const end = Date.now() + 2500;
    while (pinged.size < N && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(pinged.size).toBe(N);
    expect(wired.keepAlive.counters.pings).toBeGreaterThanOrEqual(N);
    // Each endpoint once per interval: none pinged three times so far.
    expect(Math.max(...pinged.values())).toBeLessThanOrEqual(2);
  });

  it('takes the answers the UDP receiver threads kept on each firing: an endpoint answering there stays reachable, with its round-trip time', async () => {
    // maxMisses 1: a single ping whose answer is not taken before the endpoint's next visit flags it.
    const config = validateConfig({ nat: { keepAlive: { interval: 1, target: 'all', maxMisses: 1 } } }, 'test');
    const now = Date.now();
    const table = new BindingTable(now, () => 0.1);
    let marker: Buffer | null = null;
    const sent: Array<{ seq: number; at: number }> = [];
    const listener = {
      transport: 'UDP', localAddress: '127.0.0.1', localPort: 5060,
      // The ping's own send time, not a second reading of the clock: one a millisecond later
      // made the round trip 4 ms (a flaky failure in CI).
      sendTo: (buf: Buffer) => sent.push({ seq: pingSeqIn(buf, marker!), at: b.pingSentAt }),
    };
    // Each ping answered 3 ms after it left, kept as the receiver thread keeps it, until taken.
    const transport = {
      listeners: [listener], ownAddresses: () => new Set(['127.0.0.1']),
      setPingMarker: (m: Buffer) => (marker = Buffer.from(m)),
      takePingAnswers: (onAnswer: (seq: number, atMs: number) => void) => {
        for (const s of sent.splice(0)) onAnswer(s.seq, s.at + 3);
      },
    } as unknown as TransportLayer;
    const flagged: string[] = [];
    const registrar = { reachability: (_b: Binding, state: string) => flagged.push(state) } as unknown as Registrar;
    const b = binding(3, now);
    table.put(b);
    wired = wireKeepAlive(table, registrar, transport, () => config, { debug: () => {} } as unknown as Logger);
    expect(marker).not.toBeNull();
    const end = Date.now() + 5000;
    while (wired.keepAlive.counters.answers < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(wired.keepAlive.counters.answers).toBeGreaterThanOrEqual(3);
    expect(wired.keepAlive.counters.misses).toBe(0);
    expect(flagged).not.toContain('unreachable');
    expect(b.reachable).toBe(true);
    expect(b.rttMs).toBe(3);
  });

  it('asks each ping\'s queue wait of the listener that queued it, and shows an answer held for the next visit at once', async () => {
    const config = validateConfig({ nat: { keepAlive: { interval: 1, target: 'all', maxMisses: 1 } } }, 'test');
    const now = Date.now();
    const table = new BindingTable(now, () => 0.1);
    let marker: Buffer | null = null;
    const sent: Array<{ seq: number; at: number }> = [];
    const byPort = new Map<number, Binding>();
    // Two sockets whose sender threads hand out the same tickets and waited 2 and 5 ms.
    const queued = (localPort: number, waited: number) => ({
      transport: 'UDP', localAddress: '127.0.0.1', localPort,
      sendSoon: (buf: Buffer, _address: string, port: number) => (sent.push({ seq: pingSeqIn(buf, marker!), at: byPort.get(port)!.pingSentAt }), 7),
      sendDelay: (ticket: number) => (ticket === 7 ? waited : 1000),
      sendTo: () => {
        throw new Error('queued, not sent at once');
      },
    });
    // Answered 10 ms after the visit, then 20 ms.
    let late = 10;
    const transport = {
      listeners: [queued(5060, 2), queued(5080, 5)], ownAddresses: () => new Set(['127.0.0.1']),
      setPingMarker: (m: Buffer) => (marker = Buffer.from(m)),
      takePingAnswers: (onAnswer: (seq: number, atMs: number) => void) => {
        for (const s of sent.splice(0)) onAnswer(s.seq, s.at + late);
      },
    } as unknown as TransportLayer;
    const a = binding(1, now);
    const b = binding(2, now);
    b.localPort = 5080;
    for (const x of [a, b]) byPort.set(x.sourcePort, x);
    table.put(a);
    table.put(b);
    wired = wireKeepAlive(table, { reachability: () => {} } as unknown as Registrar, transport, () => config, { debug: () => {} } as unknown as Logger);
    const until = async (done: () => boolean) => {
      const end = Date.now() + 5000;
      while (!done() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    };
    await until(() => wired!.keepAlive.counters.answers >= 2);
    // The answers wait for the next visit, a second away...
    expect([a.rttMs, b.rttMs, a.reachable]).toEqual([null, null, null]);
    // ...unless the binding is shown.
    expect([table.shown(a).rttMs, table.shown(b).rttMs, a.reachable]).toEqual([8, 5, true]);
    late = 20;
    await until(() => wired!.keepAlive.counters.answers >= 4);
    expect([a.rttMs, b.rttMs]).toEqual([8, 5]);
    expect([table.shown(a).rttMs, table.shown(b).rttMs]).toEqual([18, 15]);
    expect(wired.keepAlive.counters.misses).toBe(0);
  });

  it('sleeps while nothing is to be pinged; the first binding to be tracked wakes it, and the last to go lets it sleep', async () => {
    const config = validateConfig({ nat: { keepAlive: { interval: 1, target: 'all', maxMisses: 1000 } } }, 'test');
    const now = Date.now();
    const table = new BindingTable(now, () => 0.1);
    const pinged: number[] = [];
    const listener = { transport: 'UDP', localAddress: '127.0.0.1', localPort: 5060, sendTo: (_b: Buffer, _a: string, port: number) => pinged.push(port) };
    const transport = udpTransport(listener);
    wired = wireKeepAlive(table, { reachability: () => {} } as unknown as Registrar, transport, () => config, { debug: () => {} } as unknown as Logger);
    expect(wired.awake).toBe(false);
    await new Promise((r) => setTimeout(r, 50));
    expect(wired.awake).toBe(false);
    const b = binding(7, now);
    table.put(b);
    expect(wired.awake).toBe(true);
    const end = Date.now() + 2500;
    while (pinged.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(pinged).toEqual([10_007]);
    table.remove(b);
    await new Promise((r) => setTimeout(r, 50));
    expect(wired.awake).toBe(false);
  });

  describe('settings changed at run time', () => {
    function setup(settings: { enabled: boolean; target: 'nat' | 'all' }, nat: (i: number) => boolean) {
      let config = validateConfig({ nat: { keepAlive: { interval: 1, maxMisses: 1000, ...settings } } }, 'test');
      const now = Date.now();
      const table = new BindingTable(now, () => 0.1);
      const pinged = new Set<number>();
      const listener = { transport: 'UDP', localAddress: '127.0.0.1', localPort: 5060, sendTo: (_b: Buffer, _a: string, port: number) => pinged.add(port) };
      const transport = udpTransport(listener);
      const registrar = { reachability: () => {} } as unknown as Registrar;
      for (let i = 1; i <= 200; i++) {
        const b = binding(i, now);
        b.nat = nat(i);
        table.put(b);
      }
      wired = wireKeepAlive(table, registrar, transport, () => config, { debug: () => {} } as unknown as Logger);
      const change = (keepAlive: object) => {
        config = validateConfig({ nat: { keepAlive: { interval: 1, maxMisses: 1000, ...settings, ...keepAlive } } }, 'test');
        wired!.settingsChanged();
      };
      return { pinged, change };
    }
    const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));
    async function until(check: () => boolean, ms: number) {
      const end = Date.now() + ms;
      while (!check() && Date.now() < end) await settle(20);
    }

    it('turned on: every registered endpoint is pinged within one interval, not at its next REGISTER', async () => {
      const { pinged, change } = setup({ enabled: false, target: 'all' }, () => true);
      await settle(300);
      expect(pinged.size).toBe(0);
      change({ enabled: true });
      await until(() => pinged.size === 200, 2500);
      expect(pinged.size).toBe(200);
    });

    it('from nat to all: the endpoints not behind NAT are pinged too', async () => {
      const { pinged, change } = setup({ enabled: true, target: 'nat' }, (i) => i % 2 === 0);
      await until(() => pinged.size === 100, 2500);
      expect([...pinged].every((port) => port % 2 === 0)).toBe(true);
      change({ target: 'all' });
      await until(() => pinged.size === 200, 2500);
      expect(pinged.size).toBe(200);
    });

    it('re-tracks a large table in slices, with the event loop free between them', async () => {
      let config = validateConfig({ nat: { keepAlive: { interval: 30, maxMisses: 1000, enabled: false, target: 'all' } } }, 'test');
      const now = Date.now();
      const table = new BindingTable(now, () => 0.1);
      const listener = { transport: 'UDP', localAddress: '127.0.0.1', localPort: 5060, sendTo: () => {} };
      const transport = udpTransport(listener);
      const N = RETRACK_SLICE * 2 + 500;
      for (let i = 1; i <= N; i++) table.put(binding(i, now));
      wired = wireKeepAlive(table, { reachability: () => {} } as unknown as Registrar, transport, () => config, { debug: () => {} } as unknown as Logger);
      expect(wired.keepAlive.size).toBe(0);
      config = validateConfig({ nat: { keepAlive: { interval: 30, maxMisses: 1000, enabled: true, target: 'all' } } }, 'test');
      wired.settingsChanged();
      // One slice now; the rest after the event loop has had its turn.
      expect(wired.keepAlive.size).toBe(RETRACK_SLICE);
      await new Promise((r) => setImmediate(r));
      expect(wired.keepAlive.size).toBe(RETRACK_SLICE * 2);
      await until(() => wired!.keepAlive.size === N, 1000);
      expect(wired.keepAlive.size).toBe(N);
    });

    it('turned off: the pings stop at once', async () => {
      const { pinged, change } = setup({ enabled: true, target: 'all' }, () => true);
      await until(() => pinged.size > 20, 2500);
      change({ enabled: false });
      // Out of the ring at once, not as their slots come up.
      expect(wired!.keepAlive.size).toBe(0);
      const seen = pinged.size;
      await settle(1200);
      expect(pinged.size).toBe(seen);
      // And the schedule's timer has nothing left to wake up for.
      expect(wired!.awake).toBe(false);
    });
  });
});
