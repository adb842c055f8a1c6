// The certificate and key of the tls and wss listeners (sip.tls.cert, sip.tls.key), read and
// checked once at start, so that a missing file or a key that does not match its certificate
// stops `rollcall serve` with the key to fix instead of failing the first handshake later.
// The key's bytes never appear in an error or a log line: only file names and what is wrong.

import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { isSecureTransport, type ListenAddress } from './listen-address.js';
import { ConfigError } from './load-config.js';

export interface TlsCredentials {
  /** PEM text of the certificate chain. */
  readonly cert: Buffer;
  /** PEM text of the private key. */
  readonly key: Buffer;
}

export interface TlsFiles {
  readonly cert: string | null;
  readonly key: string | null;
}

/**
 * The credentials the listeners need: null when no listener is tls or wss (the files are then
 * not even read). Throws ConfigError naming the key and the fix.
 */
export function loadTlsCredentials(listen: readonly ListenAddress[], files: TlsFiles, readFile: (path: string) => Buffer = readFileSync): TlsCredentials | null {
  const secure = listen.filter((a) => isSecureTransport(a.transport));
  if (secure.length === 0) return null;
  const which = [...new Set(secure.map((a) => a.transport))].join(' and ');
  if (files.cert === null || files.key === null) {
    const missing = [files.cert === null ? 'sip.tls.cert' : null, files.key === null ? 'sip.tls.key' : null].filter((k) => k !== null).join(' and ');
    throw new ConfigError(
      `${which} listeners need a certificate: ${missing} not set. Give the PEM files with --tls-cert FILE --tls-key FILE (or sip.tls.cert and sip.tls.key in the config file), or remove the ${which} listeners.`,
    );
  }
  const cert = readPem(files.cert, 'sip.tls.cert', 'certificate', readFile);
  const key = readPem(files.key, 'sip.tls.key', 'private key', readFile);
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    // OpenSSL's reason ("key values mismatch", "no start line", "bad decrypt") says which;
    // it quotes no key material.
    throw new ConfigError(
      `sip.tls.cert (${files.cert}) and sip.tls.key (${files.key}) do not load as a certificate and its key: ${reasonOf(err)}. Both must be PEM; the key unencrypted and the one the certificate was issued for.`,
    );
  }
  return { cert, key };
}

function readPem(path: string, configKey: string, what: string, readFile: (path: string) => Buffer): Buffer {
  let buf: Buffer;
  try {
    buf = readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a folder' : (err as Error).message;
    throw new ConfigError(`${configKey}: cannot read the ${what} file ${path} (${why}). Point ${configKey} (--tls-${configKey.endsWith('cert') ? 'cert' : 'key'}) at a readable PEM file.`);
  }
  if (!buf.includes('-----BEGIN ')) {
    throw new ConfigError(`${configKey}: ${path} is not a PEM file (no "-----BEGIN" line). Give the ${what} in PEM form.`);
  }
  return buf;
}

function reasonOf(err: unknown): string {
  const e = err as { reason?: unknown; message?: unknown };
  const text = typeof e.reason === 'string' ? e.reason : typeof e.message === 'string' ? e.message : String(err);
  // First line only, and never anything that looks like PEM.
  return text.split('\n')[0]!.replace(/-----BEGIN[\s\S]*/, '').trim();
}
