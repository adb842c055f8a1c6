// Live updates for the console (SSE, `GET /api/stream`): every registration event as it is
// recorded, and the header's figures once a second. Under a registration storm thousands of
// events arrive per second; each client gets them in batches every 250 ms, at most
// MAX_EVENTS_PER_BATCH per batch (then one `overflow` event saying how many were left out),
// so a browser is never what slows the registrar down.

import type { ServerResponse } from 'node:http';
import type { RegistrationEvent } from '../store/store.js';

export interface LiveStats {
  registered: number;
  expiring: number;
  aors: number;
  /** Bindings flagged unreachable (the keep-alive got no answer, or their connection closed). */
  unreachable: number;
  /** The keep-alive's work since the start: endpoints pinged now, pings sent, answered, missed. */
  keepAlive: { endpoints: number; pings: number; answers: number; misses: number };
  /** Accepted REGISTERs per second over the last 10 s. */
  ratePerSecond: number;
}

const BATCH_MS = 250;
const MAX_EVENTS_PER_BATCH = 100;
const STATS_MS = 1000;
/** A client that has not taken this much is too slow: dropped (it reconnects by itself). */
const MAX_BUFFERED_BYTES = 1 << 20;

interface Client {
  readonly res: ServerResponse;
  pending: RegistrationEvent[];
  overflow: number;
}

export class RegistrationStream {
  private readonly clients = new Set<Client>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly acceptedSamples: number[] = [];
  private latest: LiveStats = { registered: 0, expiring: 0, aors: 0, unreachable: 0, keepAlive: { endpoints: 0, pings: 0, answers: 0, misses: 0 }, ratePerSecond: 0 };
  private countedAt = 0;

  constructor(
    private readonly counts: () => Omit<LiveStats, 'ratePerSecond'>,
    private readonly accepted: () => number,
  ) {
    this.acceptedSamples.push(accepted());
    this.timers.push(setInterval(() => this.flush(), BATCH_MS), setInterval(() => this.tickStats(), STATS_MS));
    for (const t of this.timers) t.unref();
  }

  /**
   * The header's figures. Counting Registered/Expiring walks every binding, so it is done
   * only when someone looks (a request, or a connected console), at most once a second: an
   * idle server does no work, and V8 can run its idle-time collection after a storm.
   */
  get stats(): LiveStats {
    const now = Date.now();
    if (now - this.countedAt >= STATS_MS) {
      this.countedAt = now;
      this.latest = { ...this.counts(), ratePerSecond: this.latest.ratePerSecond };
    }
    return this.latest;
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Takes over a response as an SSE stream until the client goes. */
  attach(res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const client: Client = { res, pending: [], overflow: 0 };
    this.clients.add(client);
    res.write(`retry: 2000\nevent: stats\ndata: ${JSON.stringify(this.stats)}\n\n`);
    res.on('close', () => this.clients.delete(client));
  }

  publish(e: RegistrationEvent): void {
    for (const c of this.clients) {
      if (c.pending.length < MAX_EVENTS_PER_BATCH) c.pending.push(e);
      else c.overflow++;
    }
  }

  close(): void {
    for (const t of this.timers) clearInterval(t);
    for (const c of this.clients) c.res.end();
    this.clients.clear();
  }

  private flush(): void {
    for (const c of this.clients) {
      if (c.pending.length === 0 && c.overflow === 0) continue;
      let out = '';
      for (const e of c.pending) out += `event: registration\ndata: ${JSON.stringify(e)}\n\n`;
      if (c.overflow > 0) out += `event: overflow\ndata: ${JSON.stringify({ dropped: c.overflow })}\n\n`;
      c.pending = [];
      c.overflow = 0;
      this.write(c, out);
    }
  }

  private tickStats(): void {
    this.sample();
    if (this.clients.size === 0) return;
    const out = `event: stats\ndata: ${JSON.stringify(this.stats)}\n\n`;
    for (const c of this.clients) this.write(c, out);
  }

  private sample(): void {
    this.acceptedSamples.push(this.accepted());
    if (this.acceptedSamples.length > 11) this.acceptedSamples.shift();
    const n = this.acceptedSamples.length - 1;
    const rate = n > 0 ? (this.acceptedSamples[n]! - this.acceptedSamples[0]!) / n : 0;
    this.latest.ratePerSecond = Math.round(rate * 10) / 10;
  }

  private write(c: Client, chunk: string): void {
    if (c.res.writableLength > MAX_BUFFERED_BYTES) {
      this.clients.delete(c);
      c.res.destroy();
      return;
    }
    c.res.write(chunk);
  }
}
