// Which data directory a command works on: --data-dir, else the config file's
// store.dataDir, else the default.

import { loadConfig } from '../config/load-config.js';

export interface DataDirOptions {
  readonly dataDir?: string;
  readonly config?: string;
}

export function resolveDataDir(o: DataDirOptions): string {
  if (o.dataDir) return o.dataDir;
  return loadConfig({ file: o.config }).store.dataDir;
}
