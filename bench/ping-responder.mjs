#!/usr/bin/env node
// A crowd of phones behind one NAT address, for bench/keep-alive.mjs: binds ADDRESS:0, prints
// its port, answers every OPTIONS with 200 OK and counts arrivals per 100 ms. A line on stdin
// ("mark") starts a new count; "report" prints the count since the mark as JSON. Its own
// process, so that its work does not stretch the latency the bench process measures.
//
//   node bench/ping-responder.mjs 127.0.0.2

import { createSocket } from 'node:dgram';
import { createInterface } from 'node:readline';

const address = process.argv[2] ?? '127.0.0.2';
if (!address.startsWith('127.')) throw new Error('loopback only');
const sock = createSocket({ type: 'udp4', recvBufferSize: 8 * 1024 * 1024 });
let buckets = new Map();
let pings = 0;
let markedAt = Date.now();

/** The header line starting with `name` (`\r\n` + name + `:`), or '' when absent. */
function line(text, name) {
  const i = text.indexOf(`\r\n${name}:`);
  if (i < 0) return '';
  return text.slice(i + 2, text.indexOf('\r\n', i + 2));
}

sock.on('message', (buf, rinfo) => {
  const text = buf.toString('latin1');
  if (!text.startsWith('OPTIONS ')) return;
  pings++;
  const b = Math.floor(Date.now() / 100);
  buckets.set(b, (buckets.get(b) ?? 0) + 1);
  const ok = `SIP/2.0 200 OK\r\n${line(text, 'Via')}\r\n${line(text, 'From')}\r\n${line(text, 'To')};tag=r\r\n${line(text, 'Call-ID')}\r\n${line(text, 'CSeq')}\r\nContent-Length: 0\r\n\r\n`;
  sock.send(ok, rinfo.port, rinfo.address);
});

sock.bind(0, address, () => process.stdout.write(JSON.stringify({ port: sock.address().port, pid: process.pid }) + '\n'));

createInterface({ input: process.stdin }).on('line', (cmd) => {
  if (cmd === 'mark') {
    buckets = new Map();
    pings = 0;
    markedAt = Date.now();
  } else if (cmd === 'report') {
    const now = Date.now();
    // Whole 100 ms buckets strictly inside the window.
    const counts = [];
    for (let b = Math.floor(markedAt / 100) + 1; b < Math.floor(now / 100); b++) counts.push(buckets.get(b) ?? 0);
    process.stdout.write(JSON.stringify({ pings, seconds: (now - markedAt) / 1000, per100ms: counts }) + '\n');
  } else if (cmd === 'exit') {
    sock.close();
    process.exit(0);
  }
});
