// The SQLite schema and its migrations, keyed on `PRAGMA user_version`. Each migration runs
// once, in its own IMMEDIATE transaction, so a server and a CLI opening a fresh file at the
// same moment cannot both apply it.

import type Database from 'better-sqlite3';

/**
 * Migration N (1-based) brings a database from user_version N-1 to N. Append only: a
 * released migration is never edited, a change is a new entry.
 */
const MIGRATIONS: readonly string[] = [
  // 1: accounts, bindings, history, settings.
  `
  CREATE TABLE accounts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    username     TEXT    NOT NULL CHECK (username <> ''),
    domain       TEXT    NOT NULL CHECK (domain <> '' AND domain = lower(domain)),
    customer     TEXT,
    ha1_md5      TEXT    NOT NULL,
    ha1_sha256   TEXT    NOT NULL,
    enabled      INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    min_expires  INTEGER,
    max_expires  INTEGER,
    max_bindings INTEGER,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    UNIQUE (username, domain)
  );
  CREATE INDEX accounts_domain ON accounts (domain);

  -- One row. accounts_version is bumped by triggers so that every process sees any other
  -- process's account change (a CLI 'accounts add' while the server runs) by reading one
  -- integer. binding_id_high is at least the id of every binding ever deleted, so that the
  -- highest id ever used (this or the highest stored) never goes back and ids are not reused.
  CREATE TABLE meta (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    accounts_version INTEGER NOT NULL,
    binding_id_high  INTEGER NOT NULL
  );
  INSERT INTO meta (id, accounts_version, binding_id_high) VALUES (1, 0, 0);

  CREATE TRIGGER accounts_inserted AFTER INSERT ON accounts
  BEGIN UPDATE meta SET accounts_version = accounts_version + 1; END;
  CREATE TRIGGER accounts_updated AFTER UPDATE ON accounts
  BEGIN UPDATE meta SET accounts_version = accounts_version + 1; END;
  CREATE TRIGGER accounts_deleted AFTER DELETE ON accounts
  BEGIN UPDATE meta SET accounts_version = accounts_version + 1; END;

  -- Ids are assigned by the registrar, not by SQLite. Every refresh rewrites its row, and
  -- what a commit costs is mostly the pages it dirties, so the table has no secondary index
  -- (the server keeps bindings in memory and reads them all at start) and holds the last
  -- REGISTER and response itself: a refresh dirties this one page, where a separate messages
  -- table would be a second random page. They are the last columns, which loading bindings
  -- reads past without decoding.
  CREATE TABLE bindings (
    id             INTEGER PRIMARY KEY,
    aor            TEXT    NOT NULL,
    username       TEXT    NOT NULL,
    domain         TEXT    NOT NULL,
    contact        TEXT    NOT NULL,
    instance       TEXT,
    reg_id         INTEGER,
    q              REAL,
    call_id        TEXT    NOT NULL,
    cseq           INTEGER NOT NULL,
    expires        INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    registered_at  INTEGER NOT NULL,
    refreshed_at   INTEGER NOT NULL,
    source_address TEXT    NOT NULL,
    source_port    INTEGER NOT NULL,
    transport      TEXT    NOT NULL,
    local_address  TEXT    NOT NULL,
    local_port     INTEGER NOT NULL,
    user_agent     TEXT,
    path           TEXT    NOT NULL DEFAULT '[]',  -- JSON array of Path header values
    last_request   BLOB    NOT NULL,               -- the bytes as received
    last_response  BLOB    NOT NULL                -- the bytes as sent
  );

  -- Append-only; ids only break ties between events of the same millisecond.
  CREATE TABLE events (
    id             INTEGER PRIMARY KEY,
    time           INTEGER NOT NULL,
    type           TEXT    NOT NULL,
    aor            TEXT,
    contact        TEXT,
    binding_id     INTEGER,
    source_address TEXT,
    source_port    INTEGER,
    transport      TEXT,
    user_agent     TEXT,
    reason         TEXT
  );
  -- 'refreshed' events are most of the history (every re-registration) and, under a
  -- registration storm, most of the write load: they are indexed by time only, so each costs
  -- an append instead of two random index pages. Queries by AOR or source find them through
  -- the time index (give a time range to keep those fast).
  CREATE INDEX events_time ON events (time);
  CREATE INDEX events_aor_time ON events (aor, time) WHERE type <> 'refreshed';
  CREATE INDEX events_source_time ON events (source_address, time) WHERE type <> 'refreshed';

  CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL  -- JSON
  ) WITHOUT ROWID;
  `,

  // 2: console users, API tokens, login sessions, audit log; accounts by customer.
  `
  -- The registrations list and the history filter by customer account.
  CREATE INDEX accounts_customer ON accounts (customer) WHERE customer IS NOT NULL;

  -- Names compare case-insensitively: "Admin" and "admin" would be two logins that look alike.
  -- AUTOINCREMENT so that an id, once a user's, never names a later user (a token or a session
  -- checked against a stale id must not find someone else).
  CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT    NOT NULL UNIQUE COLLATE NOCASE CHECK (name <> ''),
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'operator', 'read-only')),
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    last_login_at INTEGER
  );

  -- Tokens and sessions go with their user (connections run with foreign_keys = ON).
  CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    token_hash   TEXT    NOT NULL UNIQUE,  -- SHA-256 hex of the token; the token is never stored
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER
  );
  CREATE INDEX api_tokens_user ON api_tokens (user_id);

  CREATE TABLE sessions (
    id_hash    TEXT    PRIMARY KEY,  -- hash of the cookie's session id
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    address    TEXT
  ) WITHOUT ROWID;
  CREATE INDEX sessions_user ON sessions (user_id);
  CREATE INDEX sessions_expires ON sessions (expires_at);

  -- AUTOINCREMENT: ids are the paging cursor, and must not come back after a prune.
  CREATE TABLE audit (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    time        INTEGER NOT NULL,
    user        TEXT,
    address     TEXT,
    action      TEXT    NOT NULL,
    target      TEXT,
    before_json TEXT,  -- JSON; NULL for none
    after_json  TEXT
  );
  CREATE INDEX audit_time ON audit (time);
  CREATE INDEX audit_user_id ON audit (user, id);
  `,

  // 3: SIP security: auth modes per account, blocks, allow/deny lists, failed registrations.
  `
  -- Existing accounts keep digest authentication from anywhere.
  ALTER TABLE accounts ADD COLUMN auth_mode TEXT NOT NULL DEFAULT 'password'
    CHECK (auth_mode IN ('password', 'ip', 'ip-port', 'ip-and-password'));
  ALTER TABLE accounts ADD COLUMN allowed_networks TEXT;  -- JSON array; NULL: from anywhere

  -- Like accounts_version, for blocks and address lists together: the server reloads both
  -- when it moves, whoever made the change (a CLI, the API, another server's lockout).
  ALTER TABLE meta ADD COLUMN security_version INTEGER NOT NULL DEFAULT 0;
  -- Lists alone: rebuilding 100,000 entries on every lockout would cost the server too much.
  ALTER TABLE meta ADD COLUMN address_lists_version INTEGER NOT NULL DEFAULT 0;

  -- Lockouts and operator bans. expires_at NULL: until removed.
  CREATE TABLE blocks (
    kind       TEXT    NOT NULL CHECK (kind IN ('address', 'username')),
    value      TEXT    NOT NULL CHECK (value <> ''),
    reason     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    created_by TEXT    NOT NULL,
    PRIMARY KEY (kind, value)
  ) WITHOUT ROWID;
  CREATE INDEX blocks_expires ON blocks (expires_at) WHERE expires_at IS NOT NULL;

  -- AUTOINCREMENT: an id an operator saw in a list must not name a later entry.
  CREATE TABLE address_lists (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    list       TEXT    NOT NULL CHECK (list IN ('allow', 'deny')),
    cidr       TEXT    NOT NULL CHECK (cidr <> ''),
    customer   TEXT    CHECK (customer <> ''),  -- NULL: global
    note       TEXT,
    created_at INTEGER NOT NULL,
    created_by TEXT    NOT NULL
  );
  -- NULLs are distinct in a UNIQUE constraint: the expression makes two global entries equal.
  CREATE UNIQUE INDEX address_lists_entry ON address_lists (list, cidr, ifnull(customer, ''));

  CREATE TRIGGER blocks_inserted AFTER INSERT ON blocks
  BEGIN UPDATE meta SET security_version = security_version + 1; END;
  CREATE TRIGGER blocks_updated AFTER UPDATE ON blocks
  BEGIN UPDATE meta SET security_version = security_version + 1; END;
  CREATE TRIGGER blocks_deleted AFTER DELETE ON blocks
  BEGIN UPDATE meta SET security_version = security_version + 1; END;
  CREATE TRIGGER address_lists_inserted AFTER INSERT ON address_lists
  BEGIN UPDATE meta SET security_version = security_version + 1,
    address_lists_version = address_lists_version + 1; END;
  CREATE TRIGGER address_lists_updated AFTER UPDATE ON address_lists
  BEGIN UPDATE meta SET security_version = security_version + 1,
    address_lists_version = address_lists_version + 1; END;
  CREATE TRIGGER address_lists_deleted AFTER DELETE ON address_lists
  BEGIN UPDATE meta SET security_version = security_version + 1,
    address_lists_version = address_lists_version + 1; END;

  -- The failed-registration log, appended by the commit worker like events. Under a flood
  -- the server aggregates (count > 1), so rows stay bounded by sources and reasons per
  -- second, not by requests.
  CREATE TABLE failures (
    id             INTEGER PRIMARY KEY,
    time           INTEGER NOT NULL,
    source_address TEXT    NOT NULL,
    source_port    INTEGER NOT NULL,
    transport      TEXT    NOT NULL,
    username       TEXT,
    user_agent     TEXT,
    reason         TEXT    NOT NULL,
    detail         TEXT,
    count          INTEGER NOT NULL DEFAULT 1 CHECK (count >= 1)
  );
  CREATE INDEX failures_time ON failures (time);
  CREATE INDEX failures_reason_time ON failures (reason, time);
  CREATE INDEX failures_source_time ON failures (source_address, time);
  CREATE INDEX failures_username_time ON failures (username, time);
  `,
  // 4: the NAT flag (SPEC §6), decided when the REGISTER arrives from its Contact and top
  // Via (which are not kept apart from the raw request).
  `
  ALTER TABLE bindings ADD COLUMN nat INTEGER NOT NULL DEFAULT 0 CHECK (nat IN (0, 1));
  `,
];

/** The schema version this build writes and expects. */
export const SCHEMA_VERSION = MIGRATIONS.length;

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Brings the database up to SCHEMA_VERSION; a no-op when it is already there. `target` stops
 * earlier: tests make the database an older Rollcall left behind.
 */
export function migrate(db: Database.Database, target: number = SCHEMA_VERSION): void {
  if (schemaVersion(db) === target) return;
  const step = db.transaction(() => {
    // Re-read inside the write lock: another process may have migrated meanwhile.
    const current = schemaVersion(db);
    assertNotNewer(current, db.name);
    if (current >= target) return false;
    db.exec(MIGRATIONS[current]!);
    db.pragma(`user_version = ${current + 1}`);
    return true;
  });
  let migrated = true;
  while (migrated) migrated = step.immediate();
}

/** For read-only connections, which cannot migrate: the file must already be current. */
export function assertCurrent(db: Database.Database): void {
  const current = schemaVersion(db);
  assertNotNewer(current, db.name);
  if (current < SCHEMA_VERSION) {
    throw new Error(
      `database ${db.name} has schema version ${current}, this Rollcall needs ${SCHEMA_VERSION}; ` +
        'open it once read-write (start the server or run any writing command) to migrate it',
    );
  }
}

function assertNotNewer(current: number, file: string): void {
  if (current > SCHEMA_VERSION) {
    throw new Error(
      `database ${file} has schema version ${current}, newer than this Rollcall supports ` +
        `(${SCHEMA_VERSION}); upgrade Rollcall or point it at another data directory`,
    );
  }
}
