import { describe, expect, it } from 'vitest';
import { GroupCommitter, type CommitSink } from './group-commit.js';
import type { StoreOp } from './store.js';
import { putBinding } from './store-records.fixture.js';

/** A sink whose commits are settled by the test, one at a time. */
class FakeSink implements CommitSink {
  readonly batches: (readonly StoreOp[])[] = [];
  readonly #settlers: { resolve: () => void; reject: (err: Error) => void }[] = [];
  inFlight = 0;
  maxInFlight = 0;
  closed = false;

  commit(ops: readonly StoreOp[]): Promise<void> {
    this.batches.push(ops);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    return new Promise<void>((resolve, reject) => this.#settlers.push({ resolve, reject }));
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  /** Acknowledges the oldest pending commit (or fails it) and lets callbacks run. */
  async settle(err: Error | null = null): Promise<void> {
    const next = this.#settlers.shift();
    if (next === undefined) throw new Error('no commit in flight');
    this.inFlight--;
    if (err === null) next.resolve();
    else next.reject(err);
    await flushMicrotasks();
  }
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const flushMicrotasks = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};
const ids = (ops: readonly StoreOp[]): number[] =>
  ops.map((op) => (op.op === 'put-binding' ? op.binding.id : op.op === 'delete-binding' ? op.id : -1));

describe('GroupCommitter', () => {
  it('commits every submission of one event-loop turn in one transaction', async () => {
    const sink = new FakeSink();
    const journal = new GroupCommitter(sink);
    for (let id = 1; id <= 50; id++) journal.submit([putBinding(id)], () => {});
    expect(sink.batches).toHaveLength(0); // nothing is sent before setImmediate
    await turn();
    expect(sink.batches).toHaveLength(1);
    expect(ids(sink.batches[0]!)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('sends what accumulated during a commit as one batch once that commit is acknowledged', async () => {
    const sink = new FakeSink();
    const journal = new GroupCommitter(sink);
    journal.submit([putBinding(1)], () => {});
    await turn();
    for (let id = 2; id <= 10; id++) {
      journal.submit([putBinding(id)], () => {});
      await turn(); // separate turns: still only one batch in flight
    }
    expect(sink.batches).toHaveLength(1);
    await sink.settle();
    expect(sink.batches).toHaveLength(2);
    expect(ids(sink.batches[1]!)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
    await sink.settle();
    expect(sink.maxInFlight).toBe(1);
  });

  it('caps a batch at maxBatchOps without splitting a submission', async () => {
    const sink = new FakeSink();
    const journal = new GroupCommitter(sink, { maxBatchOps: 4 });
    journal.submit([putBinding(1), putBinding(2), putBinding(3)], () => {});
    journal.submit([putBinding(4), putBinding(5)], () => {}); // would make 5: next batch
    journal.submit([putBinding(6)], () => {});
    journal.submit([putBinding(7), putBinding(8), putBinding(9), putBinding(10), putBinding(11)], () => {});
    await turn();
    expect(sink.batches.map(ids)).toEqual([[1, 2, 3]]);
    await sink.settle();
    await sink.settle();
    await sink.settle();
    expect(sink.batches.map(ids)).toEqual([[1, 2, 3], [4, 5, 6], [7, 8, 9, 10, 11]]);
    expect(journal.stats).toMatchObject({ batches: 3, ops: 11, queuedOps: 0 });
  });

  it('calls done only after the commit is acknowledged, in submission order', async () => {
    const sink = new FakeSink();
    const journal = new GroupCommitter(sink);
    const order: number[] = [];
    for (let id = 1; id <= 5; id++) journal.submit([putBinding(id)], (err) => order.push(err === null ? id : -id));
    await turn();
    for (let id = 6; id <= 8; id++) journal.submit([putBinding(id)], (err) => order.push(err === null ? id : -id));
    await flushMicrotasks();
    expect(order).toEqual([]);
    await sink.settle();
    expect(order).toEqual([1, 2, 3, 4, 5]);
    await sink.settle();
    expect(order).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('gives a failed commit’s error to every done of that batch, and later batches still commit', async () => {
    const sink = new FakeSink();
    const journal = new GroupCommitter(sink);
    const results: (Error | null)[] = [];
    for (let id = 1; id <= 3; id++) journal.submit([putBinding(id)], (err) => results.push(err));
    await turn();
    journal.submit([putBinding(4)], (err) => results.push(err));
    const failure = new Error('disk I/O error');
    await sink.settle(failure);
    expect(results).toEqual([failure, failure, failure]);
    expect(sink.batches).toHaveLength(2); // the failed batch is not retried
    await sink.settle();
    expect(results).toEqual([failure, failure, failure, null]);
    expect(journal.stats).toMatchObject({ batches: 2, failedBatches: 1 });
  });

  it('turns a commit that throws synchronously into a failed batch', async () => {
    const journal = new GroupCommitter({
      commit: () => {
        throw new Error('database connection is not open');
      },
      close: () => Promise.resolve(),
    });
    const err = await new Promise<Error | null>((resolve) => journal.submit([putBinding(1)], resolve));
    expect(err?.message).toBe('database connection is not open');
  });

  it('close commits everything queued, then closes the sink', async () => {
    const sink = new FakeSink();
    const journal = new GroupCommitter(sink, { maxBatchOps: 2 });
    const done: number[] = [];
    for (let id = 1; id <= 5; id++) journal.submit([putBinding(id)], () => done.push(id));
    let closed = false;
    const closing = journal.close().then(() => (closed = true));
    await turn();
    while (sink.inFlight > 0) await sink.settle();
    await closing;
    expect(closed).toBe(true);
    expect(done).toEqual([1, 2, 3, 4, 5]);
    expect(sink.batches.map(ids)).toEqual([[1, 2], [3, 4], [5]]);
    expect(sink.closed).toBe(true);
  });

  it('fails submissions made after close', async () => {
    const journal = new GroupCommitter(new FakeSink());
    await journal.close();
    const err = await new Promise<Error | null>((resolve) => journal.submit([putBinding(1)], resolve));
    expect(err?.message).toBe('binding journal is closed');
  });
});
