#!/usr/bin/env node
// Calibration: what Node's UDP path alone costs on this machine right now. A child process
// echoes every datagram it receives (500 bytes, as a REGISTER); this process keeps 64 in
// flight. Prints the echo server's CPU per message, user and system. A registration is two
// requests and two responses, so twice this figure is the floor under Rollcall's main-thread
// CPU per registration, before any SIP work. On a shared VM it moves with the hour: run it
// next to `npm run bench` to compare figures taken on different days. Loopback only;
// bounded in count and time.
//
//   node bench/udp-floor.mjs [messages]

import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';

const N = Number(process.argv[2] ?? 200_000);
const TICK_US = 1e6 / Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);

const ECHO = `
import { createSocket } from 'node:dgram';
import { isIP } from 'node:net';
const s = createSocket({ type: 'udp4', recvBufferSize: 4 << 20, lookup: (h, o, cb) => cb(null, h, isIP(h)) });
s.on('message', (buf, r) => s.send(buf, r.port, r.address));
s.bind(0, '127.0.0.1', () => console.log(s.address().port));
`;

function ticks(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]), sys: Number(fields[12]) };
}

const server = spawn(process.execPath, ['--input-type=module', '-e', ECHO], { stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise((resolve) => server.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
const t0 = ticks(server.pid);
const client = createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
const payload = Buffer.alloc(500, 65);
const received = await new Promise((resolve) => {
  let sent = 0;
  let got = 0;
  const timer = setTimeout(() => resolve(got), 60_000);
  client.on('message', () => {
    got++;
    if (sent < N) {
      client.send(payload, port, '127.0.0.1');
      sent++;
    }
    if (got === N) {
      clearTimeout(timer);
      resolve(got);
    }
  });
  client.bind(0, '127.0.0.1', () => {
    for (let i = 0; i < 64; i++, sent++) client.send(payload, port, '127.0.0.1');
  });
});
const t1 = ticks(server.pid);
server.kill();
client.close();
const user = ((t1.user - t0.user) * TICK_US) / received;
const sys = ((t1.sys - t0.sys) * TICK_US) / received;
console.log(JSON.stringify({ messages: received, echoCpuUsPerMessage: +(user + sys).toFixed(1), userUs: +user.toFixed(1), sysUs: +sys.toFixed(1) }));
