// A CommitSink that runs each batch in the commit worker (commit-worker.ts) on its own
// connection. A batch is encoded here, at flush time, into one ArrayBuffer (store-op-codec.ts)
// that is transferred, not cloned, and comes back with the reply to be reused. The worker
// is unref'd while idle, so an idle journal does not keep the process alive, and ref'd
// while a commit is pending, so a REGISTER waiting for durability keeps it alive.

import { Worker } from 'node:worker_threads';
import type { CommitSink } from '../group-commit.js';
import { StoreOpEncoder } from '../store-op-codec.js';
import type { StoreOp } from '../store.js';
import type { CommitWorkerData, FromCommitWorker, ToCommitWorker } from './commit-worker.js';

/** How long close() waits for the worker to close its connection before terminating it. */
const CLOSE_TIMEOUT_MS = 10_000;

interface PendingCommit {
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

export class WorkerCommitSink implements CommitSink {
  readonly #data: CommitWorkerData;
  #worker: Worker | null = null;
  #workerError: Error | null = null;
  readonly #pending = new Map<number, PendingCommit>();
  readonly #encoder = new StoreOpEncoder();
  #nextId = 1;
  #closed = false;

  constructor(data: CommitWorkerData) {
    this.#data = data;
    // Started now rather than on the first REGISTER, which would otherwise wait for it.
    this.#worker = this.#start();
  }

  commit(ops: readonly StoreOp[]): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('commit worker is closed'));
    const worker = (this.#worker ??= this.#start());
    const id = this.#nextId++;
    return new Promise<void>((resolve, reject) => {
      const { buffer, length } = this.#encoder.encode(ops); // a throw rejects
      this.#pending.set(id, { resolve, reject });
      if (this.#pending.size === 1) worker.ref();
      const message: ToCommitWorker = { type: 'commit', id, batch: buffer, length };
      worker.postMessage(message, [buffer]);
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const worker = this.#worker;
    if (worker === null) return;
    // Keep the process alive until the worker has closed its connection.
    worker.ref();
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    const message: ToCommitWorker = { type: 'close' };
    worker.postMessage(message);
    const timer = setTimeout(() => void worker.terminate(), CLOSE_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }

  #start(): Worker {
    this.#workerError = null;
    const worker = startCommitWorker(this.#data);
    worker.on('message', (reply: FromCommitWorker) => this.#onReply(reply));
    worker.on('error', (err) => {
      this.#workerError = err;
    });
    worker.on('exit', (code) => this.#onExit(worker, code));
    // After the listeners: adding a 'message' listener refs the worker's port again.
    worker.unref();
    return worker;
  }

  #onReply(reply: FromCommitWorker): void {
    this.#encoder.recycle(reply.batch);
    const pending = this.#pending.get(reply.id);
    if (pending === undefined) return;
    this.#pending.delete(reply.id);
    if (this.#pending.size === 0) this.#worker?.unref();
    if (reply.error === null) {
      pending.resolve();
    } else {
      const err = new Error(reply.error.message) as Error & { code?: string };
      if (reply.error.code !== null) err.code = reply.error.code;
      pending.reject(err);
    }
  }

  #onExit(worker: Worker, code: number): void {
    if (this.#worker === worker) this.#worker = null;
    if (this.#pending.size === 0) return;
    // A crashed worker (it could not open the database, or died) fails what it held; the
    // next commit starts a new one.
    const err = this.#workerError ?? new Error(`commit worker exited with code ${code}`);
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(err);
  }
}

function startCommitWorker(data: CommitWorkerData): Worker {
  if (!import.meta.url.endsWith('.ts')) {
    return new Worker(new URL('./commit-worker.js', import.meta.url), { workerData: data });
  }
  // Running from TypeScript source (vitest, `node --import tsx`). Node 20 does not apply
  // module hooks given in a Worker's execArgv (`--import tsx`; nodejs/node#47747), so a
  // small bootstrap registers tsx inside the worker before importing the .ts entry.
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./commit-worker.ts', import.meta.url).href;
  const bootstrap =
    `import(${JSON.stringify(tsxApi)})` +
    `.then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(bootstrap, { eval: true, workerData: data });
}
