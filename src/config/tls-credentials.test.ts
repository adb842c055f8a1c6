import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseListenAddress, type ListenAddress } from './listen-address.js';
import { ConfigError } from './load-config.js';
import { HAS_OPENSSL, makeTestCertificate, OPENSSL_SKIP_REASON, type TestCertificate } from './test-certificate.fixture.js';
import { loadTlsCredentials } from './tls-credentials.js';

const listen = (...texts: string[]) => texts.map((t) => parseListenAddress(t) as ListenAddress);

function failure(f: () => unknown): ConfigError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

if (!HAS_OPENSSL) console.warn(`skipping the certificate loading tests: ${OPENSSL_SKIP_REASON}`);

describe('TLS credentials at start-up', () => {
  it('are not needed (nor read) without a tls or wss listener', () => {
    const read = () => {
      throw new Error('must not read');
    };
    expect(loadTlsCredentials(listen('udp:0.0.0.0:5060', 'tcp:0.0.0.0:5060', 'ws:0.0.0.0:8088'), { cert: '/nope', key: null }, read)).toBeNull();
  });

  it('a tls or wss listener without cert or key names the keys, the flags and the other way out', () => {
    const e = failure(() => loadTlsCredentials(listen('udp:0.0.0.0:5060', 'tls:0.0.0.0:5061', 'wss:0.0.0.0:8089'), { cert: null, key: null }));
    expect(e.message).toBe(
      'tls and wss listeners need a certificate: sip.tls.cert and sip.tls.key not set. Give the PEM files with --tls-cert FILE --tls-key FILE (or sip.tls.cert and sip.tls.key in the config file), or remove the tls and wss listeners.',
    );
    expect(failure(() => loadTlsCredentials(listen('wss:[::1]:8089'), { cert: '/c.pem', key: null })).message).toMatch(/^wss listeners need a certificate: sip\.tls\.key not set\./);
  });

  it('an unreadable file names its key and the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollcall-tls-'));
    const e = failure(() => loadTlsCredentials(listen('tls:0.0.0.0:5061'), { cert: join(dir, 'missing.pem'), key: join(dir, 'key.pem') }));
    expect(e.message).toBe(`sip.tls.cert: cannot read the certificate file ${join(dir, 'missing.pem')} (no such file). Point sip.tls.cert (--tls-cert) at a readable PEM file.`);
    const e2 = failure(() => loadTlsCredentials(listen('tls:0.0.0.0:5061'), { cert: __filename, key: dir }));
    expect(e2.message).toMatch(/^sip\.tls\.cert: .* is not a PEM file/);
  });

  describe.skipIf(!HAS_OPENSSL)('with real files', () => {
    let a: TestCertificate;
    let b: TestCertificate;
    beforeAll(() => {
      a = makeTestCertificate();
      b = makeTestCertificate();
    });

    it('loads a certificate and its key', () => {
      const c = loadTlsCredentials(listen('tls:0.0.0.0:5061'), { cert: a.certFile, key: a.keyFile });
      expect(c!.cert.equals(a.cert)).toBe(true);
      expect(c!.key.equals(a.key)).toBe(true);
    });

    it('a key of another certificate is refused, and the message quotes no key material', () => {
      const e = failure(() => loadTlsCredentials(listen('wss:0.0.0.0:8089'), { cert: a.certFile, key: b.keyFile }));
      expect(e.message).toMatch(new RegExp(`^sip\\.tls\\.cert \\(${a.certFile}\\) and sip\\.tls\\.key \\(${b.keyFile}\\) do not load as a certificate and its key: .*mismatch`));
      expect(e.message).not.toMatch(/BEGIN|PRIVATE/);
      for (const line of b.key.toString().split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'))) expect(e.message).not.toContain(line);
    });

    it('the key given as certificate (and the other way round) is refused', () => {
      const e = failure(() => loadTlsCredentials(listen('tls:0.0.0.0:5061'), { cert: a.keyFile, key: a.certFile }));
      expect(e.message).toMatch(/^sip\.tls\.cert .* do not load as a certificate and its key/);
      expect(e.message).not.toContain(a.key.toString().split('\n')[1]!);
    });

    it('a file that cannot be read for its permissions says so', () => {
      if (process.getuid?.() === 0) return; // root reads anything
      const dir = mkdtempSync(join(tmpdir(), 'rollcall-tls-'));
      const key = join(dir, 'key.pem');
      writeFileSync(key, a.key);
      chmodSync(key, 0o000);
      expect(failure(() => loadTlsCredentials(listen('tls:0.0.0.0:5061'), { cert: a.certFile, key })).message).toBe(
        `sip.tls.key: cannot read the private key file ${key} (permission denied). Point sip.tls.key (--tls-key) at a readable PEM file.`,
      );
    });
  });
});
