// Opens a connection to Rollcall's SQLite file with the pragmas every connection needs:
// the main one, the commit worker's, and a CLI's running next to the server.

import Database from 'better-sqlite3';

export type Synchronous = 'normal' | 'full';

export interface ConnectionOptions {
  readonly file: string;
  readonly synchronous: Synchronous;
  readonly readonly?: boolean;
}

/** How long a writer waits for another process's write lock before failing with SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5000;

/**
 * WAL size (pages) at which a commit checkpoints, ~40 MB. A binding refreshed many times
 * between two checkpoints is copied into the database once, so a longer interval costs the
 * commit worker less per registration (at 12,000 refreshes/s of 10,000 bindings: ~15% less
 * than SQLite's 1,000) for a checkpoint of a few tens of ms every second or two.
 */
export const WAL_AUTOCHECKPOINT_PAGES = 10_000;

export function openConnection(options: ConnectionOptions): Database.Database {
  const readonly = options.readonly ?? false;
  const db = new Database(options.file, {
    readonly,
    fileMustExist: readonly,
    timeout: BUSY_TIMEOUT_MS,
  });
  try {
    // WAL is a property of the file; a read-only connection can neither set it nor needs to.
    if (!readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
    }
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('foreign_keys = ON');
    // In WAL mode, NORMAL survives a process crash (kill -9) but not a power loss; FULL
    // syncs the WAL on every commit and survives both.
    db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}
