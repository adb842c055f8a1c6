// Child process for the journal lifetime test: opens a store with the worker journal and
// never closes it. With `idle` it submits nothing, so the process must exit by itself; with
// `pending` it submits one op, which must keep the process alive until it is durable.
// Usage: node --import tsx journal-lifetime.fixture.ts <dataDir> idle|pending

import { putBinding } from '../store-records.fixture.js';
import { openSqliteStore } from './sqlite-store.js';

const [dataDir, mode] = process.argv.slice(2);
if (dataDir === undefined || (mode !== 'idle' && mode !== 'pending')) {
  throw new Error('usage: journal-lifetime.fixture.ts <dataDir> idle|pending');
}

const store = openSqliteStore({ dataDir, synchronous: 'full', journal: 'worker' });
if (mode === 'pending') {
  store.journal.submit([putBinding(1)], (err) => process.stdout.write(err === null ? 'durable\n' : `failed: ${err.message}\n`));
}
