#!/usr/bin/env node
// Builds native/udp-threads (the UDP keep-alive threads: pings sent and their answers read off
// the event loop) with node-gyp; npm runs it at install. A failed build is not a failed
// install: Rollcall then handles both on the event loop and its start-up log says so
// (src/transport/udp-native.ts).

import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'native', 'udp-threads');
if (process.platform !== 'linux') {
  console.log(`rollcall: native UDP keep-alive threads skipped (Linux only, this is ${process.platform})`);
  process.exit(0);
}
// npm hands its own node-gyp to install scripts; run by hand, the one on PATH.
const gyp = process.env.npm_config_node_gyp;
// Quiet unless something goes wrong: compiler warnings and errors still show.
const [cmd, args] = gyp ? [process.execPath, [gyp, 'rebuild', '--loglevel=warn']] : ['node-gyp', ['rebuild', '--loglevel=warn']];
const r = spawnSync(cmd, args, { cwd: dir, stdio: 'inherit' });
if (r.status !== 0) {
  console.warn('rollcall: the native UDP keep-alive threads were not built (they need a C compiler, python3 and make);');
  console.warn('rollcall: keep-alive pings and answers will be handled on the event loop. `npm rebuild` tries again.');
}
