// The README is part of the product: its configuration reference is the schema's, and its
// first commands are the ones CI runs.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configReference, REFERENCE_BEGIN, REFERENCE_END } from '../../src/cli/config-reference.js';
import { ROOT } from '../support/rollcall-process.js';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

describe('README', () => {
  it('holds the configuration reference generated from the schema (npm run docs:config)', () => {
    const start = readme.indexOf(REFERENCE_BEGIN) + REFERENCE_BEGIN.length;
    const end = readme.indexOf(REFERENCE_END);
    expect(readme.slice(start, end).trim()).toBe(configReference().trim());
  });

  it('documents every configuration key', () => {
    for (const key of configReference().matchAll(/^\| `([a-z]+\.[A-Za-z]+)`/gm)) expect(readme).toContain(key[1]);
  });

  it('gives the test command that .ci/run runs', () => {
    const ci = readFileSync(join(ROOT, '.ci/run'), 'utf8');
    expect(ci).toContain('npm test');
    expect(readme).toContain('npm test');
  });
});
