// `rollcall serve`: configuration from file + flags, then the server until a signal.

import { loadConfig, treeOfDotted, mergeTrees } from '../config/load-config.js';
import { startServer } from '../server/rollcall-server.js';
import { createLogger } from './logger.js';
import { UsageError } from './usage-error.js';

export interface ServeOptions {
  readonly config?: string;
  readonly dataDir?: string;
  readonly listen: string[];
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly domain: string[];
  readonly logLevel?: string;
  readonly logFormat?: string;
  readonly http?: string;
  readonly set: string[];
}

/** `--set a.b=value`: the value as JSON when it parses (numbers, booleans, lists), else a string. */
function parseSet(items: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`--set ${item}: expected key=value, e.g. --set registrar.maxBindings=3`);
    const raw = item.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // a plain string
    }
    out[item.slice(0, eq)] = value;
  }
  return out;
}

export async function serveCommand(o: ServeOptions): Promise<void> {
  const flags: Record<string, unknown> = parseSet(o.set);
  if (o.dataDir) flags['store.dataDir'] = o.dataDir;
  if (o.listen.length) flags['sip.listen'] = o.listen;
  if (o.tlsCert) flags['sip.tls.cert'] = o.tlsCert;
  if (o.tlsKey) flags['sip.tls.key'] = o.tlsKey;
  if (o.domain.length) flags['registrar.domains'] = o.domain;
  if (o.logLevel) flags['log.level'] = o.logLevel;
  if (o.logFormat) flags['log.format'] = o.logFormat;
  if (o.http) flags['http.listen'] = o.http;
  const config = loadConfig({ file: o.config, overrides: mergeTrees({}, treeOfDotted(flags)) });
  const log = createLogger(config.log);
  const server = await startServer(config, log);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
