import { describe, expect, it } from 'vitest';
import { validateConfig } from './load-config.js';
import {
  RUNTIME_KEYS,
  applyChanges,
  isRuntimeKey,
  runtimeKeyInfo,
  runtimeValues,
  storeOverride,
  storedOverrides,
  valueAt,
  type SettingsAccess,
} from './runtime-settings.js';
import { configSchema, type Config } from './schema.js';

const defaults = (): Config => validateConfig({}, 'defaults');

const NOT_RUNTIME =
  'not a system parameter changeable at run time (these are: registrar.maxBindings, registrar.replacePolicy, registrar.defaultExpires, ' +
  'registrar.minExpires, registrar.maxExpires, registrar.expirySpread, registrar.expiringShare, auth.algorithms, auth.nonceLifetime, ' +
  'history.retentionDays, history.recordRefreshes, log.level, http.sessionTtl, http.lockout.maxFailures, http.lockout.window, ' +
  'http.lockout.duration, http.passwordPolicy.minLength, http.auditRetentionDays, security.rateLimit.enabled, ' +
  'security.rateLimit.requestRate, security.rateLimit.requestBurst, security.rateLimit.registerRate, security.rateLimit.registerBurst, ' +
  'security.rateLimit.action, security.rateLimit.newSourceRate, security.rateLimit.newSourceBurst, security.rateLimit.trustTime, ' +
  'security.lockout.maxFailures, security.lockout.window, security.lockout.duration, security.lockout.perUsername, ' +
  'security.lockout.maxUsernameFailures, security.lockout.maxAttemptsPerCallId, security.floodBlock.enabled, security.floodBlock.threshold, ' +
  'security.floodBlock.window, security.floodBlock.duration, security.unauthorizedResponse, ' +
  'security.scannerAgents, security.blockScanners, security.failureRetentionDays, nat.flowTimer, nat.keepAlive.enabled, nat.keepAlive.target, ' +
  'nat.keepAlive.interval, nat.keepAlive.maxMisses, nat.keepAlive.removeUnreachable, nat.keepAlive.throughPath, nat.lostConnection)';

/** The description the schema declares for a dotted key. */
function schemaDescription(key: string): string | undefined {
  let node: unknown = configSchema;
  for (const part of key.split('.')) {
    // Unwrap default/prefault/refinements down to the object, then step into its shape.
    let inner = node as { shape?: Record<string, unknown>; unwrap?: () => unknown; def?: { innerType?: unknown } };
    while (inner.shape === undefined) inner = (inner.def?.innerType ?? inner.unwrap?.()) as typeof inner;
    node = inner.shape[part];
  }
  return (node as { description?: string }).description;
}

function fakeSettings(initial: Record<string, unknown> = {}): SettingsAccess & { map: Map<string, unknown> } {
  const map = new Map(Object.entries(initial));
  return {
    map,
    get: (k) => map.get(k),
    set: (k, v) => void map.set(k, v),
    all: () => Object.fromEntries(map),
  };
}

describe('runtimeKeyInfo', () => {
  it('lists every run-time key, in order', () => {
    expect(runtimeKeyInfo().map((i) => i.key)).toEqual([...RUNTIME_KEYS]);
  });

  it('takes each description from the schema, and each default is the configured default', () => {
    const config = defaults();
    for (const info of runtimeKeyInfo()) {
      expect(info.description, info.key).toBe(schemaDescription(info.key));
      expect(info.description.length, info.key).toBeGreaterThan(0);
      expect(info.default, info.key).toEqual(valueAt(config, info.key));
    }
  });

  it('gives each key its type', () => {
    expect(Object.fromEntries(runtimeKeyInfo().map((i) => [i.key, i.type]))).toEqual({
      'registrar.maxBindings': 'integer',
      'registrar.replacePolicy': 'enum',
      'registrar.defaultExpires': 'integer',
      'registrar.minExpires': 'integer',
      'registrar.maxExpires': 'integer',
      'registrar.expirySpread': 'number',
      'registrar.expiringShare': 'number',
      'auth.algorithms': 'list',
      'auth.nonceLifetime': 'integer',
      'history.retentionDays': 'number',
      'history.recordRefreshes': 'boolean',
      'log.level': 'enum',
      'http.sessionTtl': 'integer',
      'http.lockout.maxFailures': 'integer',
      'http.lockout.window': 'integer',
      'http.lockout.duration': 'integer',
      'http.passwordPolicy.minLength': 'integer',
      'http.auditRetentionDays': 'number',
      'security.rateLimit.enabled': 'boolean',
      'security.rateLimit.requestRate': 'number',
      'security.rateLimit.requestBurst': 'integer',
      'security.rateLimit.registerRate': 'number',
      'security.rateLimit.registerBurst': 'integer',
      'security.rateLimit.action': 'enum',
      'security.rateLimit.newSourceRate': 'number',
      'security.rateLimit.newSourceBurst': 'integer',
      'security.rateLimit.trustTime': 'integer',
      'security.lockout.maxFailures': 'integer',
      'security.lockout.window': 'integer',
      'security.lockout.duration': 'integer',
      'security.lockout.perUsername': 'boolean',
      'security.lockout.maxUsernameFailures': 'integer',
      'security.lockout.maxAttemptsPerCallId': 'integer',
      'security.floodBlock.enabled': 'boolean',
      'security.floodBlock.threshold': 'integer',
      'security.floodBlock.window': 'integer',
      'security.floodBlock.duration': 'integer',
      'security.unauthorizedResponse': 'enum',
      'nat.flowTimer': 'integer',
      'nat.keepAlive.enabled': 'boolean',
      'nat.keepAlive.target': 'enum',
      'nat.keepAlive.interval': 'integer',
      'nat.keepAlive.maxMisses': 'integer',
      'nat.keepAlive.removeUnreachable': 'boolean',
      'nat.keepAlive.throughPath': 'boolean',
      'nat.lostConnection': 'enum',
      'security.scannerAgents': 'list',
      'security.blockScanners': 'boolean',
      'security.failureRetentionDays': 'number',
    });
  });

  it('describes an integer with its bounds', () => {
    expect(runtimeKeyInfo().find((i) => i.key === 'registrar.maxBindings')).toEqual({
      key: 'registrar.maxBindings',
      description: 'Maximum bindings (registered devices) per address-of-record; an account can override it.',
      default: 1,
      type: 'integer',
      min: 1,
      max: 1000,
    });
  });

  it('gives no max for an integer the schema does not bound above', () => {
    expect(runtimeKeyInfo().find((i) => i.key === 'registrar.minExpires')).toEqual({
      key: 'registrar.minExpires',
      description: 'Shortest expiry accepted; a shorter non-zero one gets 423 Interval Too Brief with Min-Expires.',
      default: 60,
      type: 'integer',
      min: 1,
    });
    for (const info of runtimeKeyInfo()) expect(info.max === undefined || info.max <= 1000, info.key).toBe(true);
  });

  it('describes an enum with its values and a list with the values of its items', () => {
    const info = runtimeKeyInfo();
    expect(info.find((i) => i.key === 'registrar.replacePolicy')).toMatchObject({ type: 'enum', enum: ['on', 'off'], default: 'on' });
    expect(info.find((i) => i.key === 'log.level')).toMatchObject({
      type: 'enum',
      enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace'],
      default: 'info',
    });
    expect(info.find((i) => i.key === 'auth.algorithms')).toMatchObject({ type: 'list', enum: ['MD5', 'SHA-256'], default: ['MD5', 'SHA-256'] });
  });

  it('describes a boolean without bounds or values', () => {
    const b = runtimeKeyInfo().find((i) => i.key === 'history.recordRefreshes')!;
    expect(b).toEqual({ key: 'history.recordRefreshes', description: b.description, default: true, type: 'boolean' });
  });

  it('gives a number its bounds, exclusive ones included', () => {
    expect(runtimeKeyInfo().find((i) => i.key === 'registrar.expirySpread')).toMatchObject({ type: 'number', default: 0, min: 0, max: 50 });
    expect(runtimeKeyInfo().find((i) => i.key === 'registrar.expiringShare')).toMatchObject({ type: 'number', default: 0.1, min: 0, max: 1 });
  });
});

describe('isRuntimeKey / valueAt / runtimeValues', () => {
  it('knows run-time keys from the rest', () => {
    expect(isRuntimeKey('registrar.maxBindings')).toBe(true);
    expect(isRuntimeKey('http.lockout.window')).toBe(true);
    expect(isRuntimeKey('sip.listen')).toBe(false);
    expect(isRuntimeKey('registrar')).toBe(false);
    expect(isRuntimeKey('')).toBe(false);
  });

  it('reads a dotted key of a config, and undefined for a path that is not there', () => {
    const c = defaults();
    expect(valueAt(c, 'http.lockout.maxFailures')).toBe(5);
    expect(valueAt(c, 'registrar.nope')).toBeUndefined();
    expect(valueAt(c, 'nope.deeper.still')).toBeUndefined();
  });

  it('gives the current value of every run-time key', () => {
    const values = runtimeValues(defaults());
    expect(Object.keys(values)).toEqual([...RUNTIME_KEYS]);
    expect(values['registrar.maxBindings']).toBe(1);
    expect(values['auth.algorithms']).toEqual(['MD5', 'SHA-256']);
    expect(values['http.passwordPolicy.minLength']).toBe(12);
  });
});

describe('applyChanges', () => {
  it('accepts a valid change and leaves the rest of the configuration as it was', () => {
    const before = defaults();
    const r = applyChanges(before, { 'registrar.maxBindings': 3 });
    if (!('config' in r)) throw new Error(r.error);
    expect(r.config.registrar.maxBindings).toBe(3);
    expect({ ...r.config, registrar: { ...r.config.registrar, maxBindings: 1 } }).toEqual(before);
    expect(before.registrar.maxBindings).toBe(1);
  });

  it('applies several keys at once, nested three deep too', () => {
    const r = applyChanges(defaults(), {
      'http.lockout.window': 60,
      'auth.algorithms': ['SHA-256'],
      'log.level': 'debug',
      'history.recordRefreshes': false,
    });
    if (!('config' in r)) throw new Error(r.error);
    expect(r.config.http.lockout).toEqual({ maxFailures: 5, window: 60, duration: 900 });
    expect(r.config.auth.algorithms).toEqual(['SHA-256']);
    expect(r.config.log.level).toBe('debug');
    expect(r.config.history.recordRefreshes).toBe(false);
  });

  it('keeps changes made before (applies to the configuration it is given)', () => {
    const first = applyChanges(defaults(), { 'registrar.maxExpires': 4000 });
    if (!('config' in first)) throw new Error(first.error);
    const second = applyChanges(first.config, { 'registrar.defaultExpires': 300 });
    if (!('config' in second)) throw new Error(second.error);
    expect(second.config.registrar.maxExpires).toBe(4000);
    expect(second.config.registrar.defaultExpires).toBe(300);
  });

  it('no changes give the same configuration', () => {
    const r = applyChanges(defaults(), {});
    expect(r).toEqual({ config: defaults() });
  });

  it('rejects a key that needs a restart, naming it and listing the run-time keys', () => {
    expect(applyChanges(defaults(), { 'sip.listen': ['udp:0.0.0.0:5070'] })).toEqual({ error: `sip.listen: ${NOT_RUNTIME}` });
  });

  it('rejects an unknown key, naming every bad key at once', () => {
    expect(applyChanges(defaults(), { 'registrar.nope': 1 })).toEqual({ error: `registrar.nope: ${NOT_RUNTIME}` });
    expect(applyChanges(defaults(), { 'registrar.maxBindings': 2, 'store.dataDir': '/tmp', nope: 1 })).toEqual({
      error: `store.dataDir, nope: ${NOT_RUNTIME}`,
    });
  });

  it('rejects a section given as an object rather than dotted keys', () => {
    expect(applyChanges(defaults(), { registrar: { maxBindings: 2 } })).toEqual({ error: `registrar: ${NOT_RUNTIME}` });
  });

  it('rejects a bad value, naming the key and the value', () => {
    expect(applyChanges(defaults(), { 'registrar.maxBindings': 0 })).toEqual({
      error: 'registrar.maxBindings = 0: Too small: expected number to be >=1',
    });
    expect(applyChanges(defaults(), { 'registrar.maxBindings': '3' })).toEqual({
      error: 'registrar.maxBindings = "3": Invalid input: expected number, received string',
    });
    expect(applyChanges(defaults(), { 'log.level': 'loud' })).toEqual({
      error: 'log.level = "loud": Invalid option: expected one of "fatal"|"error"|"warn"|"info"|"debug"|"trace"',
    });
    expect(applyChanges(defaults(), { 'auth.algorithms': [] })).toEqual({
      error: 'auth.algorithms = []: Too small: expected array to have >=1 items',
    });
    expect(applyChanges(defaults(), { 'http.lockout.maxFailures': null })).toEqual({
      error: 'http.lockout.maxFailures = null: Invalid input: expected number, received null',
    });
  });

  it('enforces rules across keys: minExpires above maxExpires is refused with every broken rule named', () => {
    expect(applyChanges(defaults(), { 'registrar.minExpires': 3000, 'registrar.maxExpires': 2000 })).toEqual({
      error:
        'registrar.minExpires = 3000: minExpires (3000) must not exceed maxExpires (2000); ' +
        'registrar.defaultExpires = 3600: defaultExpires (3600) must lie within minExpires..maxExpires (3000..2000)',
    });
  });

  it('checks a change against the keys left as they are', () => {
    expect(applyChanges(defaults(), { 'registrar.defaultExpires': 30 })).toEqual({
      error: 'registrar.defaultExpires = 30: defaultExpires (30) must lie within minExpires..maxExpires (60..7200)',
    });
    const ok = applyChanges(defaults(), { 'registrar.defaultExpires': 30, 'registrar.minExpires': 30 });
    expect('config' in ok).toBe(true);
  });
});

describe('storedOverrides / storeOverride', () => {
  it('a stored override comes back under its key', () => {
    const s = fakeSettings();
    storeOverride(s, 'registrar.maxBindings', 4);
    storeOverride(s, 'auth.algorithms', ['SHA-256', 'MD5']);
    storeOverride(s, 'history.recordRefreshes', false);
    expect(s.map.get('config.registrar.maxBindings')).toBe(4);
    expect(storedOverrides(s)).toEqual({
      'registrar.maxBindings': 4,
      'auth.algorithms': ['SHA-256', 'MD5'],
      'history.recordRefreshes': false,
    });
  });

  it('a later override of a key replaces the earlier one', () => {
    const s = fakeSettings();
    storeOverride(s, 'log.level', 'debug');
    storeOverride(s, 'log.level', 'warn');
    expect(storedOverrides(s)).toEqual({ 'log.level': 'warn' });
  });

  it('ignores other settings and stored keys that are not run-time keys (any more)', () => {
    const s = fakeSettings({
      'config.registrar.maxBindings': 2,
      'config.sip.listen': ['udp:0.0.0.0:5070'],
      'config.registrar.retired': 1,
      'console.theme': 'dark',
      'registrar.maxBindings': 9,
    });
    expect(storedOverrides(s)).toEqual({ 'registrar.maxBindings': 2 });
  });

  it('nothing stored gives no overrides', () => {
    expect(storedOverrides(fakeSettings())).toEqual({});
  });

  it('stored overrides apply as changes', () => {
    const s = fakeSettings();
    storeOverride(s, 'registrar.maxBindings', 5);
    storeOverride(s, 'http.lockout.duration', 60);
    const r = applyChanges(defaults(), storedOverrides(s));
    if (!('config' in r)) throw new Error(r.error);
    expect(r.config.registrar.maxBindings).toBe(5);
    expect(r.config.http.lockout.duration).toBe(60);
  });
});
