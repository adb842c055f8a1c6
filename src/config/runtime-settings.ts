// System parameters (SPEC §4) changed at run time from the API and the console: which keys
// may change without a restart, their description from the one schema, validation of a
// change against that schema, and the stored overrides that keep changes across restarts.

import { z } from 'zod';
import { mergeTrees, treeOfDotted, validateConfig, ConfigError } from './load-config.js';
import { configSchema, type Config } from './schema.js';

/** Keys the running server applies at once; the rest (sockets, storage) need a restart. */
export const RUNTIME_KEYS = [
  'registrar.maxBindings',
  'registrar.replacePolicy',
  'registrar.defaultExpires',
  'registrar.minExpires',
  'registrar.maxExpires',
  'registrar.expirySpread',
  'registrar.expiringShare',
  'auth.algorithms',
  'auth.nonceLifetime',
  'history.retentionDays',
  'history.recordRefreshes',
  'log.level',
  'http.sessionTtl',
  'http.lockout.maxFailures',
  'http.lockout.window',
  'http.lockout.duration',
  'http.passwordPolicy.minLength',
  'http.auditRetentionDays',
  'security.rateLimit.enabled',
  'security.rateLimit.requestRate',
  'security.rateLimit.requestBurst',
  'security.rateLimit.registerRate',
  'security.rateLimit.registerBurst',
  'security.rateLimit.action',
  'security.rateLimit.newSourceRate',
  'security.rateLimit.newSourceBurst',
  'security.rateLimit.trustTime',
  'security.lockout.maxFailures',
  'security.lockout.window',
  'security.lockout.duration',
  'security.lockout.perUsername',
  'security.lockout.maxUsernameFailures',
  'security.lockout.maxAttemptsPerCallId',
  'security.floodBlock.enabled',
  'security.floodBlock.threshold',
  'security.floodBlock.window',
  'security.floodBlock.duration',
  'security.unauthorizedResponse',
  'security.scannerAgents',
  'security.blockScanners',
  'security.failureRetentionDays',
  'nat.flowTimer',
  'nat.keepAlive.enabled',
  'nat.keepAlive.target',
  'nat.keepAlive.interval',
  'nat.keepAlive.maxMisses',
  'nat.keepAlive.removeUnreachable',
  'nat.keepAlive.throughPath',
  'nat.lostConnection',
] as const;
export type RuntimeKey = (typeof RUNTIME_KEYS)[number];

/** Settings-store key prefix of a stored override. */
const STORED_PREFIX = 'config.';

export interface RuntimeKeyInfo {
  readonly key: RuntimeKey;
  readonly description: string;
  readonly default: unknown;
  readonly type: 'number' | 'integer' | 'boolean' | 'string' | 'enum' | 'list';
  readonly enum?: readonly string[];
  readonly min?: number;
  readonly max?: number;
}

type JsonSchema = {
  type?: string;
  description?: string;
  default?: unknown;
  enum?: string[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
};

let described: RuntimeKeyInfo[] | null = null;

/** Every run-time key with what the schema says of it (for the console's form). */
export function runtimeKeyInfo(): RuntimeKeyInfo[] {
  if (described !== null) return described;
  const root = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  described = RUNTIME_KEYS.map((key) => {
    let node: JsonSchema | undefined = root;
    for (const part of key.split('.')) node = node?.properties?.[part];
    if (node === undefined) throw new Error(`runtime key ${key} is not in the config schema`);
    const type: RuntimeKeyInfo['type'] = node.enum
      ? 'enum'
      : node.type === 'array'
        ? 'list'
        : node.type === 'integer' || node.type === 'number' || node.type === 'boolean'
          ? node.type
          : 'string';
    const min = node.minimum ?? node.exclusiveMinimum;
    const max = [node.maximum, node.exclusiveMaximum].find((m) => m !== undefined && m < Number.MAX_SAFE_INTEGER); // zod's int() bound is no limit
    return {
      key,
      description: node.description ?? '',
      default: node.default,
      type,
      ...(node.enum ? { enum: node.enum } : node.items?.enum ? { enum: node.items.enum } : {}),
      ...(min !== undefined ? { min } : {}),
      ...(max !== undefined ? { max } : {}),
    };
  });
  return described;
}

export function isRuntimeKey(key: string): key is RuntimeKey {
  return (RUNTIME_KEYS as readonly string[]).includes(key);
}

export function valueAt(config: Config, key: string): unknown {
  let v: unknown = config;
  for (const part of key.split('.')) v = (v as Record<string, unknown> | undefined)?.[part];
  return v;
}

export function runtimeValues(config: Config): Record<RuntimeKey, unknown> {
  const out = {} as Record<RuntimeKey, unknown>;
  for (const key of RUNTIME_KEYS) out[key] = valueAt(config, key);
  return out;
}

/**
 * The configuration with `changes` applied, validated by the schema as a whole (so rules
 * across keys, like minExpires ≤ maxExpires, hold); an error names each bad key.
 */
export function applyChanges(config: Config, changes: Record<string, unknown>): { config: Config } | { error: string } {
  const unknown = Object.keys(changes).filter((k) => !isRuntimeKey(k));
  if (unknown.length > 0) {
    return { error: `${unknown.join(', ')}: not a system parameter changeable at run time (these are: ${RUNTIME_KEYS.join(', ')})` };
  }
  try {
    const next = validateConfig(mergeTrees(config as unknown as Record<string, unknown>, treeOfDotted(changes)), 'change');
    return { config: next };
  } catch (err) {
    if (err instanceof ConfigError) return { error: err.message.replace(/^invalid configuration \(change\):\n\s*/, '').replace(/\n\s*/g, '; ') };
    throw err;
  }
}

export interface SettingsAccess {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
  all(): Record<string, unknown>;
}

/** Overrides changed at run time and stored; they win over the config file. */
export function storedOverrides(settings: SettingsAccess): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(settings.all())) {
    if (k.startsWith(STORED_PREFIX) && isRuntimeKey(k.slice(STORED_PREFIX.length))) out[k.slice(STORED_PREFIX.length)] = v;
  }
  return out;
}

export function storeOverride(settings: SettingsAccess, key: RuntimeKey, value: unknown): void {
  settings.set(STORED_PREFIX + key, value);
}
