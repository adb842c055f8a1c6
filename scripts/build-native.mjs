#!/usr/bin/env node
// Builds native/udp-sender (the UDP sender thread for keep-alive pings) with node-gyp; npm
// runs it at install. A failed build is not a failed install: Rollcall then sends the pings
// from the event loop and its start-up log says so (src/transport/udp-sender-thread.ts).

import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'native', 'udp-sender');
if (process.platform !== 'linux') {
  console.log(`rollcall: native UDP sender skipped (Linux only, this is ${process.platform})`);
  process.exit(0);
}
// npm hands its own node-gyp to install scripts; run by hand, the one on PATH.
const gyp = process.env.npm_config_node_gyp;
// Quiet unless something goes wrong: compiler warnings and errors still show.
const [cmd, args] = gyp ? [process.execPath, [gyp, 'rebuild', '--loglevel=warn']] : ['node-gyp', ['rebuild', '--loglevel=warn']];
const r = spawnSync(cmd, args, { cwd: dir, stdio: 'inherit' });
if (r.status !== 0) {
  console.warn('rollcall: the native UDP sender was not built (it needs a C compiler, python3 and make);');
  console.warn('rollcall: keep-alive pings will be sent from the event loop. `npm rebuild` tries again.');
}
