// Structured logs (pino): JSON lines for machines, or readable lines for a terminal.
// Secrets are redacted by key name wherever they appear in a logged object.

import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { Config } from '../config/schema.js';

const REDACT = ['password', '*.password', 'secret', '*.secret', 'ha1Md5', 'ha1Sha256', '*.ha1Md5', '*.ha1Sha256', 'authorization', '*.authorization'];

export function createLogger(c: Config['log']): Logger {
  const opts = { level: c.level, redact: { paths: REDACT, censor: '[redacted]' }, base: { name: 'rollcall' } };
  if (c.format === 'pretty') return pino(opts, pretty({ colorize: process.stdout.isTTY, sync: true, ignore: 'pid,hostname,name' }));
  return pino(opts);
}
