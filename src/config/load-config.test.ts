import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, treeOfDotted } from './load-config.js';
import { parseListenAddress } from './listen-address.js';

function file(text: string, name = 'rollcall.yaml'): string {
  const f = join(mkdtempSync(join(tmpdir(), 'rollcall-cfg-')), name);
  writeFileSync(f, text);
  return f;
}

describe('configuration', () => {
  it('has a default for every key', () => {
    const c = loadConfig();
    expect(c.registrar).toMatchObject({ maxBindings: 1, replacePolicy: 'on', defaultExpires: 3600, minExpires: 60, maxExpires: 7200 });
    expect(c.sip.listen).toEqual(['udp:0.0.0.0:5060', 'tcp:0.0.0.0:5060']);
    expect(c.store).toEqual({ dataDir: 'data', synchronous: 'full' });
  });

  it('reads YAML and lets the command line override it', () => {
    const f = file('registrar:\n  maxBindings: 3\n  domains: [Example.COM]\nsip:\n  listen: ["udp:127.0.0.1:5070"]\n');
    const c = loadConfig({ file: f, overrides: treeOfDotted({ 'registrar.maxBindings': 5 }) });
    expect(c.registrar.maxBindings).toBe(5);
    expect(c.registrar.domains).toEqual(['Example.COM']);
    expect(c.sip.listen).toEqual(['udp:127.0.0.1:5070']);
  });

  it('names the key, the bad value and what is allowed', () => {
    const f = file('registrar:\n  replacePolicy: maybe\n  maxBindings: 0\n');
    expect(() => loadConfig({ file: f })).toThrow(ConfigError);
    try {
      loadConfig({ file: f });
    } catch (err) {
      const m = (err as Error).message;
      expect(m).toContain('registrar.replacePolicy = "maybe"');
      expect(m).toMatch(/"on"\|"off"/);
      expect(m).toContain('registrar.maxBindings = 0');
      expect(m).toMatch(/>=1/);
    }
  });

  it('names the new key for one a release renamed', () => {
    expect(() => loadConfig({ overrides: { sip: { udpSenderThread: false } } })).toThrow(/sip\.udpSenderThread: renamed; use sip\.udpKeepAliveThreads/);
  });

  it('rejects unknown keys by name', () => {
    expect(() => loadConfig({ overrides: { registrar: { maxBinding: 2 } } })).toThrow(/registrar\.maxBinding: unknown key/);
  });

  it('rejects a minimum expiry above the maximum', () => {
    expect(() => loadConfig({ overrides: { registrar: { minExpires: 4000, maxExpires: 3000 } } })).toThrow(/minExpires \(4000\) must not exceed maxExpires \(3000\)/);
  });

  it('rejects a bad listen address with an example of a good one', () => {
    expect(() => loadConfig({ overrides: { sip: { listen: ['udp:localhost:5060'] } } })).toThrow(/sip\.listen\.0 = "udp:localhost:5060".*numeric/);
    expect(parseListenAddress('tcp:[::1]:5061')).toEqual({ transport: 'tcp', host: '::1', port: 5061 });
    expect(parseListenAddress('sctp:127.0.0.1:5060')).toMatch(/transport "sctp"/);
  });

  it('reports unreadable and malformed files', () => {
    expect(() => loadConfig({ file: '/nonexistent/rollcall.yaml' })).toThrow(/cannot read config file/);
    expect(() => loadConfig({ file: file('registrar: [unclosed') })).toThrow(/not valid YAML/);
  });
});
