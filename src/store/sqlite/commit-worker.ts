// The commit worker: a worker thread that owns a second write connection and runs the
// journal's transactions, so a commit's fsync (synchronous=full) never blocks the event
// loop that answers SIP requests. Started by WorkerCommitSink.

import { parentPort, workerData } from 'node:worker_threads';
import { openConnection, type ConnectionOptions } from './connection.js';
import { StoreOpWriter } from './store-op-writer.js';
import type { StoreOp } from '../store.js';

export type CommitWorkerData = ConnectionOptions;

export type ToCommitWorker =
  | { readonly type: 'commit'; readonly id: number; readonly ops: readonly StoreOp[] }
  | { readonly type: 'close' };

export interface FromCommitWorker {
  readonly id: number;
  /** null when the transaction committed. */
  readonly error: { readonly message: string; readonly code: string | null } | null;
}

const port = parentPort;
if (port === null) throw new Error('commit-worker.ts runs only as a worker thread');

const db = openConnection(workerData as CommitWorkerData);
const writer = new StoreOpWriter(db);

port.on('message', (message: ToCommitWorker) => {
  if (message.type === 'close') {
    db.close();
    // In a worker thread this ends the thread, not the process.
    process.exit(0);
  }
  let reply: FromCommitWorker;
  try {
    writer.apply(message.ops);
    reply = { id: message.id, error: null };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    const code = (e as { code?: unknown }).code;
    reply = { id: message.id, error: { message: e.message, code: typeof code === 'string' ? code : null } };
  }
  port.postMessage(reply);
});
