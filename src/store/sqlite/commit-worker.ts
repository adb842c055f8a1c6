// The commit worker: a worker thread that owns a second write connection and runs the
// journal's transactions, so a commit's fsync (synchronous=full) never blocks the event
// loop that answers SIP requests. Started by WorkerCommitSink. A batch arrives as the
// binary form of store-op-codec.ts in a transferred ArrayBuffer, and goes back with the
// reply for the sink to reuse.

import { parentPort, workerData } from 'node:worker_threads';
import { openConnection, type ConnectionOptions } from './connection.js';
import { StoreOpWriter } from './store-op-writer.js';

export type CommitWorkerData = ConnectionOptions;

export type ToCommitWorker =
  | {
      readonly type: 'commit';
      readonly id: number;
      /** An encoded batch in bytes [0, length), transferred. */
      readonly batch: ArrayBuffer;
      readonly length: number;
    }
  | { readonly type: 'close' };

export interface FromCommitWorker {
  readonly id: number;
  /** null when the transaction committed. */
  readonly error: { readonly message: string; readonly code: string | null } | null;
  /** The commit's ArrayBuffer, transferred back for reuse. */
  readonly batch: ArrayBuffer;
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
  let error: FromCommitWorker['error'] = null;
  try {
    writer.applyEncoded(Buffer.from(message.batch, 0, message.length));
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    const code = (e as { code?: unknown }).code;
    error = { message: e.message, code: typeof code === 'string' ? code : null };
  }
  const reply: FromCommitWorker = { id: message.id, error, batch: message.batch };
  port.postMessage(reply, [message.batch]);
});
