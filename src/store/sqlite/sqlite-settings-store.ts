// Settings in SQLite: opaque JSON values keyed by dotted config path.

import type Database from 'better-sqlite3';
import type { SettingsStore } from '../store.js';

export class SqliteSettingsStore implements SettingsStore {
  readonly #get: Database.Statement<[string], string>;
  readonly #set: Database.Statement<[string, string]>;
  readonly #delete: Database.Statement<[string]>;
  readonly #all: Database.Statement<[], { key: string; value: string }>;

  constructor(db: Database.Database) {
    this.#get = db.prepare('SELECT value FROM settings WHERE key = ?').pluck() as Database.Statement<[string], string>;
    this.#set = db.prepare(
      'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    );
    this.#delete = db.prepare('DELETE FROM settings WHERE key = ?');
    this.#all = db.prepare('SELECT key, value FROM settings ORDER BY key');
  }

  /** The stored value, or undefined when the key was never set (or was set to undefined). */
  get(key: string): unknown {
    const json = this.#get.get(key);
    return json === undefined ? undefined : JSON.parse(json);
  }

  /** Setting `undefined` removes the key, so the global default applies again. */
  set(key: string, value: unknown): void {
    const json = value === undefined ? undefined : JSON.stringify(value);
    if (json === undefined) {
      // JSON.stringify also yields undefined for functions and symbols: not storable.
      if (value !== undefined) throw new Error(`setting ${key}: value is not JSON-serialisable`);
      this.#delete.run(key);
      return;
    }
    this.#set.run(key, json);
  }

  all(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const { key, value } of this.#all.all()) out[key] = JSON.parse(value);
    return out;
  }
}
