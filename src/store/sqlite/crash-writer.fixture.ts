// Child process for the durability test: writes bindings through the worker journal without
// end and prints each binding id the moment its done(null) fires. The test kills it with
// SIGKILL mid-stream; every id printed must then be in the database.
// Usage: node --import tsx crash-writer.fixture.ts <dataDir>

import { putBinding } from '../store-records.fixture.js';
import { openSqliteStore } from './sqlite-store.js';

const dataDir = process.argv[2];
if (dataDir === undefined) throw new Error('usage: crash-writer.fixture.ts <dataDir>');

const store = openSqliteStore({ dataDir, synchronous: 'full', journal: 'worker' });
let nextId = 1;
let outstanding = 0;
const MAX_OUTSTANDING = 1000;

function acknowledge(id: number) {
  return (err: Error | null): void => {
    outstanding--;
    if (err !== null) {
      process.stderr.write(`commit failed: ${err.message}\n`);
      process.exit(1);
    }
    // Writes to a pipe are synchronous on Linux: the id is in the pipe before we go on.
    process.stdout.write(`${id}\n`);
  };
}

function submitSome(): void {
  for (let i = 0; i < 50 && outstanding < MAX_OUTSTANDING; i++) {
    const id = nextId++;
    outstanding++;
    store.journal.submit([putBinding(id, {}, 256)], acknowledge(id));
  }
  setImmediate(submitSome);
}

process.stdout.write('ready\n');
submitSome();
// A safety net should the test never kill it.
setTimeout(() => process.exit(2), 60_000).unref();
