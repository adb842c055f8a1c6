// A CommitSink that runs each batch synchronously on the caller's connection: the CLI's
// journal, and the fallback when a worker thread is not wanted. Still group-committed.

import type { CommitSink } from '../group-commit.js';
import type { StoreOp } from '../store.js';
import type { StoreOpWriter } from './store-op-writer.js';

const COMMITTED = Promise.resolve();

export class InlineCommitSink implements CommitSink {
  readonly #writer: StoreOpWriter;

  constructor(writer: StoreOpWriter) {
    this.#writer = writer;
  }

  commit(ops: readonly StoreOp[]): Promise<void> {
    try {
      this.#writer.apply(ops);
      return COMMITTED;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  close(): Promise<void> {
    return COMMITTED;
  }
}
