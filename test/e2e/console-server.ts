// The console's address, learned from the server's JSON log line
// `{"msg":"HTTP listening","url":"http://127.0.0.1:PORT"}`.

import type { ServerProcess } from '../support/rollcall-process.js';

export async function waitForHttpUrl(server: ServerProcess, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = server.logs.find((l) => l['msg'] === 'HTTP listening' && typeof l['url'] === 'string');
    if (line) return (line['url'] as string).replace(/\/$/, '');
    if (server.exited()) throw new Error('the server exited before it logged "HTTP listening"');
    if (Date.now() > deadline) throw new Error(`no "HTTP listening" log line within ${timeoutMs} ms (is the management API built into this server?)`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
