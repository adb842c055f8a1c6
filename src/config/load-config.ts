// Loads the configuration: schema defaults, then a YAML/JSON file, then command-line
// overrides; fails with every bad key named, its value, and what is allowed.

import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { configSchema, type Config } from './schema.js';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Tree = Record<string, unknown>;

function isTree(v: unknown): v is Tree {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge of plain objects; arrays and scalars from `over` replace those of `base`. */
export function mergeTrees(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isTree(v) && isTree(out[k]) ? mergeTrees(out[k] as Tree, v) : v;
  }
  return out;
}

/** `{ 'registrar.maxBindings': 2 }` → `{ registrar: { maxBindings: 2 } }`. */
export function treeOfDotted(dotted: Record<string, unknown>): Tree {
  const out: Tree = {};
  for (const [path, value] of Object.entries(dotted)) {
    const keys = path.split('.');
    let node = out;
    for (const k of keys.slice(0, -1)) {
      if (!isTree(node[k])) node[k] = {};
      node = node[k] as Tree;
    }
    node[keys[keys.length - 1]!] = value;
  }
  return out;
}

export function readConfigFile(file: string): Tree {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
  }
  if (doc == null) return {};
  if (!isTree(doc)) throw new ConfigError(`config file ${file} must hold a mapping of sections (sip:, registrar:, ...)`);
  return doc;
}

function describeValue(input: unknown, path: readonly PropertyKey[]): string {
  let v: unknown = input;
  for (const k of path) v = isTree(v) || Array.isArray(v) ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v === undefined ? '(missing)' : JSON.stringify(v);
}

/** Keys a release renamed: a file written for the old name is told the new one. */
const RENAMED: Readonly<Record<string, string>> = {
  // The addon came to read the answers too, not only send the pings.
  'sip.udpSenderThread': 'sip.udpKeepAliveThreads',
};

/** Validates a merged tree against the schema; throws ConfigError naming each bad key. */
export function validateConfig(tree: Tree, origin: string): Config {
  const r = configSchema.safeParse(tree);
  if (r.success) return r.data;
  const lines = r.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const where = issue.path.length ? `${issue.path.join('.')}.` : '';
      return issue.keys
        .map((k) => where + k)
        .map((key) => (RENAMED[key] ? `  ${key}: renamed; use ${RENAMED[key]}` : `  ${key}: unknown key (see the configuration reference in README.md)`))
        .join('\n');
    }
    const key = issue.path.join('.') || '(root)';
    return `  ${key} = ${describeValue(tree, issue.path)}: ${issue.message}`;
  });
  throw new ConfigError(`invalid configuration (${origin}):\n${lines.join('\n')}`);
}

export interface ConfigSources {
  /** Path of a YAML or JSON file. */
  readonly file?: string | undefined;
  /** Overrides as a partial tree (from command-line flags); applied last. */
  readonly overrides?: Tree;
}

export function loadConfig(sources: ConfigSources = {}): Config {
  let tree: Tree = {};
  const origins: string[] = [];
  if (sources.file) {
    tree = readConfigFile(sources.file);
    origins.push(sources.file);
  }
  if (sources.overrides && Object.keys(sources.overrides).length) {
    tree = mergeTrees(tree, sources.overrides);
    origins.push('command line');
  }
  return validateConfig(tree, origins.length ? origins.join(' + ') : 'defaults');
}
