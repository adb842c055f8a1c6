// A self-signed certificate for tests, made at test time with the openssl CLI (nothing
// secret is checked in): P-256, CN=localhost, with 127.0.0.1 and ::1 as alternative names.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificate {
  readonly dir: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: Buffer;
  readonly key: Buffer;
}

export const HAS_OPENSSL = spawnSync('sh', ['-c', 'command -v openssl']).status === 0;
export const OPENSSL_SKIP_REASON = 'the openssl command is missing (Debian package openssl; .ci/run installs it)';

export function makeTestCertificate(dir = mkdtempSync(join(tmpdir(), 'rollcall-cert-'))): TestCertificate {
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  const r = spawnSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1', '-days', '2', '-keyout', keyFile, '-out', certFile],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`openssl req failed: ${r.stderr}`);
  return { dir, certFile, keyFile, cert: readFileSync(certFile), key: readFileSync(keyFile) };
}
