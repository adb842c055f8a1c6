// Benchmark of the durable write path in its steady state: bindings re-registering over and
// over, each registration one put-binding (with its ~650 B REGISTER and ~450 B 200 OK) and one
// event, submitted through the real GroupCommitter and WorkerCommitSink in batches of ~100
// registrations. It reports what the registrar's budget is about: main-thread time per
// registration inside the journal (submit, flush, encode, postMessage), CPU time of the commit
// worker thread (and of the process's other threads) per registration, and registrations/s.
//
// Usage: node --import tsx src/store/sqlite/journal-bench.fixture.ts [options]
//   --sync full|normal|both     synchronous pragma (default both)
//   --scenario refresh|first|both
//                               refresh: re-registrations of existing bindings (default);
//                               first: new bindings, each with a 'registered' event
//   --bindings N                bindings that refresh (default 10000)
//   --registrations N           measured registrations (default 100000)
//   --batch N                   registrations per transaction (default 100)
//   --sources N                 distinct source addresses (default: one per binding; SIPp on
//                               one host is 1)
//   --heap-mb N                 live heap ballast, to look like a loaded server (default 0)
//   --work N                    µs of other main-thread work per registration (allocating,
//                               as parsing and answering do), so that the journal runs on a
//                               busy thread with cold caches as in the server (default 0)
//   --dir PATH                  where to put the database (default: a fresh tmp directory)

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { GroupCommitter, type CommitSink } from '../group-commit.js';
import type { BindingRecord, RegistrationEvent, StoreOp } from '../store.js';
import type { Synchronous } from './connection.js';
import { openSqliteStore } from './sqlite-store.js';
import { WorkerCommitSink } from './worker-commit-sink.js';

const { values: args } = parseArgs({
  options: {
    sync: { type: 'string', default: 'both' },
    scenario: { type: 'string', default: 'refresh' },
    bindings: { type: 'string', default: '10000' },
    registrations: { type: 'string', default: '100000' },
    batch: { type: 'string', default: '100' },
    'heap-mb': { type: 'string', default: '0' },
    work: { type: 'string', default: '0' },
    sources: { type: 'string' },
    dir: { type: 'string' },
  },
});

const BINDINGS = positive('bindings');
const REGISTRATIONS = positive('registrations');
const BATCH = positive('batch');
const HEAP_MB = Number(args['heap-mb']);
const WORK_US = Number(args.work);
const SOURCES = args.sources === undefined ? BINDINGS : positive('sources');
const syncs: Synchronous[] = args.sync === 'both' ? ['full', 'normal'] : [args.sync as Synchronous];
const scenarios = args.scenario === 'both' ? ['refresh', 'first'] : [args.scenario!];

function positive(name: 'bindings' | 'registrations' | 'batch' | 'sources'): number {
  const n = Number(args[name]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${args[name]}`);
  return n;
}

// ---- thread CPU, from /proc (Node 20 has no per-thread cpuUsage) ----

/** Nanoseconds this task has run on a CPU (schedstat's first field). */
function taskCpuNs(tid: string): number {
  try {
    return Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
  } catch {
    return 0; // the thread has exited
  }
}

function taskIds(): string[] {
  return readdirSync('/proc/self/task');
}

/** The main thread's id: the first field of /proc/thread-self/stat, read on this thread. */
const mainTid = readFileSync('/proc/thread-self/stat', 'utf8').split(' ')[0]!;

function cpuSnapshot(): Map<string, number> {
  const snap = new Map<string, number>();
  for (const tid of taskIds()) snap.set(tid, taskCpuNs(tid));
  return snap;
}

// ---- the registrations ----

const DOMAIN = 'example.com';

function request(p: Phone, n: number): Buffer {
  const { user, port, cseq, source } = p;
  return Buffer.from(
    `REGISTER sip:${DOMAIN} SIP/2.0\r\n` +
      `Via: SIP/2.0/UDP ${source}:${port};rport;branch=z9hG4bK-${n.toString(36)}-a1b2c3\r\n` +
      'Max-Forwards: 70\r\n' +
      `From: <sip:${user}@${DOMAIN}>;tag=f${user}x${port}\r\n` +
      `To: <sip:${user}@${DOMAIN}>\r\n` +
      `Call-ID: reg-${user}-${port}@${source}\r\n` +
      `CSeq: ${cseq} REGISTER\r\n` +
      `Contact: <sip:${user}@${source}:${port};transport=udp>;expires=3600\r\n` +
      `Authorization: Digest username="${user}",realm="${DOMAIN}",nonce="${n.toString(16).padStart(32, '0')}",` +
      `uri="sip:${DOMAIN}",response="6629fae49393a05397450978507c4ef1",algorithm=MD5,` +
      'cnonce="0a4f113b",qop=auth,nc=00000001\r\n' +
      'User-Agent: Fixture Phone 1.0 (firmware 2.4.1)\r\n' +
      'Allow: INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, OPTIONS, INFO, MESSAGE, UPDATE\r\n' +
      'Supported: replaces, path, outbound, gruu\r\n' +
      'Expires: 3600\r\n' +
      'Content-Length: 0\r\n\r\n',
  );
}

function response(p: Phone, n: number): Buffer {
  const { user, port, cseq, source } = p;
  return Buffer.from(
    'SIP/2.0 200 OK\r\n' +
      `Via: SIP/2.0/UDP ${source}:${port};rport=${port};received=${source};branch=z9hG4bK-${n.toString(36)}-a1b2c3\r\n` +
      `From: <sip:${user}@${DOMAIN}>;tag=f${user}x${port}\r\n` +
      `To: <sip:${user}@${DOMAIN}>;tag=rc-${n.toString(36)}\r\n` +
      `Call-ID: reg-${user}-${port}@${source}\r\n` +
      `CSeq: ${cseq} REGISTER\r\n` +
      `Contact: <sip:${user}@${source}:${port};transport=udp>;expires=3600\r\n` +
      'Date: Tue, 21 Nov 2023 22:07:00 GMT\r\n' +
      'Server: Rollcall 0.1.0\r\n' +
      'Content-Length: 0\r\n\r\n',
  );
}

interface Phone {
  readonly id: number;
  readonly user: string;
  readonly port: number;
  readonly source: string;
  /** Kept across refreshes, as the registrar's Binding keeps them. */
  readonly aor: string;
  readonly contact: string;
  readonly callId: string;
  cseq: number;
  registeredAt: number;
}

/**
 * A flat copy of `s`. Template literals make rope strings, which the first reader must
 * flatten; the registrar's strings are parser slices and copies, already flat.
 */
function flat(s: string): string {
  return Buffer.from(s, 'latin1').toString('latin1');
}

function phone(id: number): Phone {
  const user = String(100_000 + id);
  const port = 5060 + (id % 2000);
  const n = id % SOURCES;
  const source = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
  return {
    id,
    user,
    port,
    source,
    aor: flat(`sip:${user}@${DOMAIN}`),
    contact: flat(`sip:${user}@${source}:${port};transport=udp`),
    callId: flat(`reg-${user}-${port}@${source}`),
    cseq: 0,
    registeredAt: 0,
  };
}

const USER_AGENT = 'Fixture Phone 1.0 (firmware 2.4.1)';

/** The ops of one REGISTER, shaped as the registrar makes them. */
function registration(p: Phone, now: number, n: number): StoreOp[] {
  const first = p.cseq === 0;
  p.cseq++;
  if (first) p.registeredAt = now;
  // Read from each request: new strings every time.
  const sourceAddress = flat(p.source);
  const userAgent = flat(USER_AGENT);
  const binding: BindingRecord = {
    id: p.id,
    aor: p.aor,
    username: p.user,
    domain: DOMAIN,
    contact: p.contact,
    instance: null,
    regId: null,
    q: null,
    callId: p.callId,
    cseq: p.cseq,
    expires: 3600,
    expiresAt: now + 3_600_000,
    registeredAt: p.registeredAt,
    refreshedAt: now,
    sourceAddress,
    sourcePort: p.port,
    transport: 'udp',
    localAddress: '192.0.2.1',
    localPort: 5060,
    userAgent,
    path: [],
    nat: false,
  };
  const event: RegistrationEvent = {
    time: now,
    type: first ? 'registered' : 'refreshed',
    aor: p.aor,
    contact: p.contact,
    bindingId: p.id,
    sourceAddress,
    sourcePort: p.port,
    transport: 'udp',
    userAgent,
    reason: null,
  };
  return [
    {
      op: 'put-binding',
      binding,
      lastRequest: request(p, n),
      lastResponse: response(p, n),
    },
    { op: 'event', event },
  ];
}

// ---- timing ----

/** Wall time of each commit() call; the median is robust to preemption by other processes. */
let commitNs: number[] = [];
/** From commit() to its settlement: how long a registration waits for durability, at least. */
let roundTripMs: number[] = [];

/** Times the synchronous part of each commit: encoding the batch and posting it. */
class TimedSink implements CommitSink {
  readonly #inner: CommitSink;
  constructor(inner: CommitSink) {
    this.#inner = inner;
  }
  commit(ops: readonly StoreOp[]): Promise<void> {
    const t0 = process.hrtime.bigint();
    const committed = this.#inner.commit(ops);
    commitNs.push(Number(process.hrtime.bigint() - t0));
    const settled = (): void => void roundTripMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    committed.then(settled, settled);
    return committed;
  }
  close(): Promise<void> {
    return this.#inner.close();
  }
}

/** A deterministic PRNG (mulberry32): the same refresh order on every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Result {
  readonly regsPerSecond: number;
  readonly submitUs: number;
  readonly commitUs: number;
  readonly commitMedianUs: number;
  readonly mainThreadUs: number;
  readonly workerUs: number;
  readonly otherThreadsUs: number;
  readonly batches: number;
  readonly roundTripMs: { readonly p50: number; readonly p99: number; readonly max: number };
}

/**
 * Submits `count` registrations, keeping two batches queued behind the one in flight so
 * that every transaction holds exactly `BATCH` registrations.
 */
function drive(
  journal: GroupCommitter,
  next: (n: number) => StoreOp[],
  count: number,
): Promise<{ submitNs: bigint }> {
  return new Promise((resolve, reject) => {
    let submitted = 0;
    let acknowledged = 0;
    let submitNs = 0n;
    let pumpScheduled = false;
    const done = (err: Error | null): void => {
      if (err !== null) return reject(err);
      acknowledged++;
      if (acknowledged === count) resolve({ submitNs });
      else if (!pumpScheduled && submitted < count && submitted - acknowledged < 3 * BATCH) {
        // Like requests arriving on a socket: submitted in a later turn, not in the callback.
        pumpScheduled = true;
        setImmediate(pump);
      }
    };
    const pump = (): void => {
      pumpScheduled = false;
      while (submitted < count && submitted - acknowledged < 3 * BATCH) {
        const end = Math.min(count, submitted + BATCH);
        for (; submitted < end; submitted++) {
          if (WORK_US > 0) otherWork(WORK_US);
          const ops = next(submitted);
          const t0 = process.hrtime.bigint();
          journal.submit(ops, done);
          submitNs += process.hrtime.bigint() - t0;
        }
      }
    };
    pump();
  });
}

async function run(synchronous: Synchronous, scenario: string): Promise<Result> {
  const dataDir = args.dir ?? mkdtempSync(join(tmpdir(), 'rollcall-bench-'));
  // The schema is created here; the journal then runs on its own worker connection.
  const setup = openSqliteStore({ dataDir, synchronous, journal: 'inline' });
  const file = setup.file;
  await setup.close();

  const before = new Set(taskIds());
  const journal = new GroupCommitter(new TimedSink(new WorkerCommitSink({ file, synchronous })), {
    maxBatchOps: 2 * BATCH,
  });
  let clock = 1_700_000_000_000;
  try {
    const phones: Phone[] = [];
    for (let id = 1; id <= BINDINGS; id++) phones.push(phone(id));
    let measuredPhones: (n: number) => Phone;
    if (scenario === 'refresh') {
      // Register every phone once (not measured), then re-register random ones.
      await drive(journal, (n) => registration(phones[n]!, clock++, n), BINDINGS);
      const random = prng(42);
      measuredPhones = () => phones[Math.floor(random() * BINDINGS)]!;
    } else {
      const warm = phone(10_000_000);
      await drive(journal, (n) => registration(warm, clock++, n), BATCH * 3);
      const fresh: Phone[] = [];
      for (let i = 1; i <= REGISTRATIONS; i++) fresh.push(phone(BINDINGS + i));
      measuredPhones = (n) => fresh[n]!;
    }
    const workerTids = taskIds().filter((tid) => !before.has(tid));

    commitNs = [];
    roundTripMs = [];
    const cpu0 = cpuSnapshot();
    const batches0 = journal.stats.batches;
    const t0 = process.hrtime.bigint();
    const { submitNs } = await drive(journal, (n) => registration(measuredPhones(n), clock++, n), REGISTRATIONS);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu1 = cpuSnapshot();

    let workerNs = 0;
    let otherNs = 0;
    for (const [tid, end] of cpu1) {
      if (tid === mainTid) continue;
      const delta = end - (cpu0.get(tid) ?? 0);
      // The commit worker is the busiest thread that appeared with the sink.
      if (workerTids.includes(tid) && delta > workerNs) {
        otherNs += workerNs;
        workerNs = delta;
      } else {
        otherNs += delta;
      }
    }
    const mainNs = cpu1.get(mainTid)! - cpu0.get(mainTid)!;
    const perReg = (ns: number | bigint): number => Number(ns) / 1000 / REGISTRATIONS;
    return {
      regsPerSecond: Math.round(REGISTRATIONS / seconds),
      submitUs: perReg(submitNs),
      commitUs: perReg(commitNs.reduce((a, b) => a + b, 0)),
      commitMedianUs: (median(commitNs) / 1000 / REGISTRATIONS) * commitNs.length,
      mainThreadUs: perReg(mainNs),
      workerUs: perReg(workerNs),
      otherThreadsUs: perReg(otherNs),
      batches: journal.stats.batches - batches0,
      roundTripMs: { p50: quantile(roundTripMs, 0.5), p99: quantile(roundTripMs, 0.99), max: quantile(roundTripMs, 1) },
    };
  } finally {
    await journal.close();
    if (args.dir === undefined) rmSync(dataDir, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  return quantile(values, 0.5);
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

/** Short-lived objects and strings, made for `us` microseconds: a stand-in for the parser. */
let churn: unknown = null;
function otherWork(us: number): void {
  const end = process.hrtime.bigint() + BigInt(Math.round(us * 1000));
  let i = 0;
  while (process.hrtime.bigint() < end) {
    for (let j = 0; j < 20; j++, i++) churn = { header: `Via: SIP/2.0/UDP 203.0.113.${i & 255}:5060;branch=z9hG4bK${i}`, at: i };
  }
}

/** Live objects the size of a loaded server's heap: many small objects and strings. */
function ballast(mb: number): unknown[] {
  const keep: unknown[] = [];
  // ~200 B per entry (object, string, array slot).
  for (let i = 0; i < mb * 5000; i++) keep.push({ key: `ballast-${i}-${'x'.repeat(64)}`, n: i, at: [i, i + 1] });
  return keep;
}

const heap = ballast(HEAP_MB);
console.log(
  `journal bench: ${REGISTRATIONS} registrations, ${BINDINGS} bindings, ${BATCH} registrations per ` +
    `transaction, ${SOURCES} source addresses, heap ballast ${HEAP_MB} MB, ` +
    `other main-thread work ${WORK_US} µs/registration, node ${process.version}`,
);
for (const scenario of scenarios) {
  for (const synchronous of syncs) {
    const r = await run(synchronous, scenario);
    console.log(
      `${scenario.padEnd(7)} synchronous=${synchronous.padEnd(6)} ${String(r.regsPerSecond).padStart(6)} reg/s | ` +
        `main thread µs/reg: submit ${r.submitUs.toFixed(2)} + encode/post ${r.commitUs.toFixed(2)} ` +
        `(median batch ${r.commitMedianUs.toFixed(2)}) = ${(r.submitUs + r.commitUs).toFixed(2)}, ` +
        `whole thread incl. bench ${r.mainThreadUs.toFixed(1)} | ` +
        `worker thread ${r.workerUs.toFixed(1)} µs/reg | other threads ${r.otherThreadsUs.toFixed(1)} µs/reg | ` +
        `${r.batches} transactions, commit round trip p50 ${r.roundTripMs.p50.toFixed(1)} ` +
        `p99 ${r.roundTripMs.p99.toFixed(1)} max ${r.roundTripMs.max.toFixed(1)} ms`,
    );
  }
}
if (heap.length < 0) console.log(heap, churn); // keeps the ballast alive to the end
