// Group commit: the BindingJournal's queue and scheduling, independent of where the
// transaction runs. A REGISTER is answered only once its ops are durable, so instead of one
// transaction per request, everything submitted while the previous batch commits goes into
// the next one. Every request read in the same event-loop turn lands in one transaction
// (the first flush waits for setImmediate), and under load batches grow by themselves.

import type { BindingJournal, StoreOp } from './store.js';

/** Where a batch is made durable: one call, one transaction, all or nothing. */
export interface CommitSink {
  commit(ops: readonly StoreOp[]): Promise<void>;
  /** Called once, after the last commit has settled. */
  close(): Promise<void>;
}

export interface GroupCommitOptions {
  /**
   * Most ops per transaction; the rest wait for the next one. A submission is never split
   * (its ops commit together), so a batch exceeds this only when a single submission does.
   */
  readonly maxBatchOps?: number;
}

export interface GroupCommitStats {
  /** Transactions attempted (committed or failed). */
  readonly batches: number;
  readonly failedBatches: number;
  /** Ops in those transactions. */
  readonly ops: number;
  /** Ops waiting for the next transaction. */
  readonly queuedOps: number;
}

export const DEFAULT_MAX_BATCH_OPS = 2000;

interface Submission {
  readonly ops: readonly StoreOp[];
  readonly done: (err: Error | null) => void;
}

export class GroupCommitter implements BindingJournal {
  readonly #sink: CommitSink;
  readonly #maxBatchOps: number;
  #queue: Submission[] = [];
  #queuedOps = 0;
  #inFlight = false;
  #flushScheduled = false;
  #closed: Promise<void> | null = null;
  #onDrained: (() => void) | null = null;
  #batches = 0;
  #failedBatches = 0;
  #batchedOps = 0;

  constructor(sink: CommitSink, options: GroupCommitOptions = {}) {
    const max = options.maxBatchOps ?? DEFAULT_MAX_BATCH_OPS;
    if (!Number.isInteger(max) || max < 1) {
      throw new Error(`maxBatchOps must be a positive integer, got ${max}`);
    }
    this.#sink = sink;
    this.#maxBatchOps = max;
  }

  get stats(): GroupCommitStats {
    return {
      batches: this.#batches,
      failedBatches: this.#failedBatches,
      ops: this.#batchedOps,
      queuedOps: this.#queuedOps,
    };
  }

  submit(ops: readonly StoreOp[], done: (err: Error | null) => void): void {
    if (this.#closed !== null) {
      // Asynchronously, like every other outcome, so callers need only one code path.
      queueMicrotask(() => done(new Error('binding journal is closed')));
      return;
    }
    this.#queue.push({ ops, done });
    this.#queuedOps += ops.length;
    if (!this.#inFlight && !this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(this.#scheduledFlush);
    }
    // While a batch is in flight, its settlement sends what accumulated here.
  }

  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      this.#onDrained = resolve;
      if (!this.#flushScheduled) this.#flush();
    }).then(() => this.#sink.close());
    return this.#closed;
  }

  readonly #scheduledFlush = (): void => {
    this.#flushScheduled = false;
    this.#flush();
  };

  #flush(): void {
    if (this.#inFlight) return;
    if (this.#queue.length === 0) {
      const drained = this.#onDrained;
      if (drained !== null) {
        this.#onDrained = null;
        drained();
      }
      return;
    }
    const batch = this.#takeBatch();
    let ops: readonly StoreOp[];
    if (batch.length === 1) {
      ops = batch[0]!.ops;
    } else {
      const all: StoreOp[] = [];
      for (let i = 0; i < batch.length; i++) {
        const subOps = batch[i]!.ops;
        for (let j = 0; j < subOps.length; j++) all.push(subOps[j]!);
      }
      ops = all;
    }
    this.#inFlight = true;
    this.#batches++;
    this.#batchedOps += ops.length;
    let committed: Promise<void>;
    try {
      committed = this.#sink.commit(ops);
    } catch (err) {
      committed = Promise.reject(err);
    }
    committed.then(
      () => this.#settle(batch, null),
      (err: unknown) => this.#settle(batch, toError(err)),
    );
  }

  /** Takes whole submissions from the head of the queue, up to maxBatchOps (at least one). */
  #takeBatch(): Submission[] {
    if (this.#queuedOps <= this.#maxBatchOps) {
      const all = this.#queue;
      this.#queue = [];
      this.#queuedOps = 0;
      return all;
    }
    let count = 0;
    let ops = 0;
    while (count < this.#queue.length) {
      const next = this.#queue[count]!.ops.length;
      if (count > 0 && ops + next > this.#maxBatchOps) break;
      ops += next;
      count++;
    }
    this.#queuedOps -= ops;
    return this.#queue.splice(0, count);
  }

  #settle(batch: readonly Submission[], err: Error | null): void {
    this.#inFlight = false;
    if (err !== null) this.#failedBatches++;
    // Start the next transaction before running callbacks: with a worker sink it commits
    // while this thread answers the requests of the batch that just became durable.
    this.#flush();
    for (let i = 0; i < batch.length; i++) {
      try {
        batch[i]!.done(err);
      } catch (thrown) {
        // A throwing callback is a bug in the caller; surface it without starving the rest.
        process.nextTick(() => {
          throw thrown;
        });
      }
    }
  }
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
