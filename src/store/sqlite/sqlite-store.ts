// The embedded store: one SQLite file, <dataDir>/rollcall.db, in WAL mode. The main
// connection serves reads, the CLI's writes and the management API's (console users,
// tokens, sessions, audit, blocks and address lists); the running server's binding writes,
// events and failed registrations go through `journal`, group-committed on a second
// connection in a worker thread.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { GroupCommitter, type CommitSink } from '../group-commit.js';
import type { Store } from '../store.js';
import { openConnection, type Synchronous } from './connection.js';
import { InlineCommitSink } from './inline-commit-sink.js';
import { assertCurrent, migrate } from './schema.js';
import { SqliteAccountStore } from './sqlite-account-store.js';
import { SqliteAddressListStore } from './sqlite-address-list-store.js';
import { SqliteAuditStore } from './sqlite-audit-store.js';
import { SqliteBindingStore } from './sqlite-binding-store.js';
import { SqliteBlockStore } from './sqlite-block-store.js';
import { SqliteEventStore } from './sqlite-event-store.js';
import { SqliteFailureStore } from './sqlite-failure-store.js';
import { SqliteSessionStore } from './sqlite-session-store.js';
import { SqliteSettingsStore } from './sqlite-settings-store.js';
import { SqliteTokenStore } from './sqlite-token-store.js';
import { SqliteUserStore } from './sqlite-user-store.js';
import { StoreOpWriter } from './store-op-writer.js';
import { WorkerCommitSink } from './worker-commit-sink.js';

export const DATABASE_FILE = 'rollcall.db';

export interface SqliteStoreOptions {
  readonly dataDir: string;
  /** `full` syncs every commit (survives power loss); `normal` survives a process crash. */
  readonly synchronous: Synchronous;
  /**
   * Where journal transactions run: `worker` (default, the server) on a worker thread's
   * connection; `inline` on this connection (the CLI).
   */
  readonly journal?: 'worker' | 'inline';
  /** Opens an existing file without writing (no migration, no journal writes). */
  readonly readonly?: boolean;
  /** Most ops per journal transaction; see GroupCommitOptions. */
  readonly maxBatchOps?: number;
}

export interface SqliteStore extends Store {
  /** The group committer for the running server's binding writes and events. */
  readonly journal: GroupCommitter;
  /** The database file, `<dataDir>/rollcall.db`. */
  readonly file: string;
}

export function openSqliteStore(options: SqliteStoreOptions): SqliteStore {
  const readonly = options.readonly ?? false;
  const file = join(options.dataDir, DATABASE_FILE);
  if (!readonly) mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });

  const db = openConnection({ file, synchronous: options.synchronous, readonly });
  try {
    if (readonly) assertCurrent(db);
    else migrate(db);
    return new SqliteStoreImpl(db, file, options);
  } catch (err) {
    db.close();
    throw err;
  }
}

class SqliteStoreImpl implements SqliteStore {
  readonly file: string;
  readonly accounts: SqliteAccountStore;
  readonly bindings: SqliteBindingStore;
  readonly events: SqliteEventStore;
  readonly settings: SqliteSettingsStore;
  readonly users: SqliteUserStore;
  readonly tokens: SqliteTokenStore;
  readonly sessions: SqliteSessionStore;
  readonly audit: SqliteAuditStore;
  readonly blocks: SqliteBlockStore;
  readonly addressLists: SqliteAddressListStore;
  readonly failures: SqliteFailureStore;
  readonly journal: GroupCommitter;
  readonly #db: Database.Database;
  #closed: Promise<void> | null = null;

  constructor(db: Database.Database, file: string, options: SqliteStoreOptions) {
    this.#db = db;
    this.file = file;
    const writer = new StoreOpWriter(db);
    this.accounts = new SqliteAccountStore(db);
    this.bindings = new SqliteBindingStore(db, writer);
    this.events = new SqliteEventStore(db);
    this.settings = new SqliteSettingsStore(db);
    this.users = new SqliteUserStore(db);
    this.tokens = new SqliteTokenStore(db);
    this.sessions = new SqliteSessionStore(db);
    this.audit = new SqliteAuditStore(db);
    this.blocks = new SqliteBlockStore(db);
    this.addressLists = new SqliteAddressListStore(db);
    this.failures = new SqliteFailureStore(db);
    // Started last: the schema is migrated before the worker opens its connection.
    const sink: CommitSink =
      (options.journal ?? 'worker') === 'worker' && options.readonly !== true
        ? new WorkerCommitSink({ file, synchronous: options.synchronous })
        : new InlineCommitSink(writer);
    const maxBatchOps = options.maxBatchOps;
    this.journal = new GroupCommitter(sink, maxBatchOps === undefined ? {} : { maxBatchOps });
  }

  close(): Promise<void> {
    this.#closed ??= this.journal.close().finally(() => {
      this.#db.close();
    });
    return this.#closed;
  }
}
