#!/usr/bin/env node
// A REGISTER flood for the security tests: from each given loopback source address, as many
// unauthenticated REGISTERs (each a new transaction) as this process can send, until the
// duration or the count bound is reached. Loopback targets only.
//
//   node test/support/udp-flood.mjs TARGET_PORT DURATION_MS MAX_PER_SOURCE SOURCE...
//   FLOOD_RATE=N (environment): at most N messages per second from each source (default: no cap).

import { createSocket } from 'node:dgram';

const [port, durationMs, maxPerSource, ...sources] = process.argv.slice(2);
const target = '127.0.0.1';
for (const s of sources) if (!s.startsWith('127.')) throw new Error(`flood sources must be loopback, not ${s}`);
const deadline = Date.now() + Number(durationMs);
const max = Number(maxPerSource);
const rate = Number(process.env.FLOOD_RATE ?? 0);
const started = Date.now();

function template(source, n) {
  // 12 digits after "z9hG4bK" and in the Call-ID are rewritten per message.
  return Buffer.from(
    `REGISTER sip:flood.test SIP/2.0\r\n` +
      `Via: SIP/2.0/UDP ${source}:5060;branch=z9hG4bK000000000000;rport\r\n` +
      `Max-Forwards: 70\r\n` +
      `From: <sip:flood${n}@flood.test>;tag=f${n}\r\n` +
      `To: <sip:flood${n}@flood.test>\r\n` +
      `Call-ID: 000000000000@${source}\r\n` +
      `CSeq: 1 REGISTER\r\n` +
      `Contact: <sip:flood${n}@${source}:5060>\r\n` +
      `User-Agent: flood-test\r\n` +
      `Content-Length: 0\r\n\r\n`,
  );
}

function stamp(buf, positions, counter) {
  let c = counter;
  for (let d = 11; d >= 0; d--) {
    const digit = 48 + (c % 10);
    c = Math.floor(c / 10);
    for (const p of positions) buf[p + d] = digit;
  }
}

const sent = {};
let running = sources.length;
for (const [i, source] of sources.entries()) {
  const socket = createSocket('udp4');
  socket.bind(0, source, () => {
    const buf = template(source, i);
    const text = buf.toString('latin1');
    const positions = [text.indexOf('z9hG4bK') + 7, text.indexOf('Call-ID: ') + 9];
    let n = 0;
    const burst = () => {
      if (Date.now() >= deadline || n >= max) {
        sent[source] = n;
        socket.close();
        if (--running === 0) process.stdout.write(JSON.stringify({ sent }) + '\n');
        return;
      }
      if (rate > 0 && n >= ((Date.now() - started) / 1000) * rate) {
        setTimeout(burst, 1);
        return;
      }
      for (let k = 0; k < 32 && n < max; k++, n++) {
        stamp(buf, positions, n);
        socket.send(buf, Number(port), target);
      }
      setImmediate(burst);
    };
    burst();
  });
}
