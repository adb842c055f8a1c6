#!/usr/bin/env node
// Rewrites the configuration reference in README.md from the schema (run after `npm run
// build`: `npm run docs:config`). test/docs/readme.test.ts fails when they disagree.
import { readFileSync, writeFileSync } from 'node:fs';
import { configReference, REFERENCE_BEGIN, REFERENCE_END } from '../dist/cli/config-reference.js';

const file = new URL('../README.md', import.meta.url);
const text = readFileSync(file, 'utf8');
const start = text.indexOf(REFERENCE_BEGIN);
const end = text.indexOf(REFERENCE_END);
if (start < 0 || end < start) throw new Error('README.md lacks the config-reference markers');
writeFileSync(file, text.slice(0, start + REFERENCE_BEGIN.length) + '\n\n' + configReference() + '\n' + text.slice(end));
console.log('README.md configuration reference updated');
