// The local control channel: a Unix socket in the data directory (mode 0600, so only the
// user owning the data can use it) over which the CLI asks the running server to act —
// like kamcmd for Kamailio. One JSON request per line, one JSON reply per line.

import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { join } from 'node:path';

export type ControlRequest =
  | { readonly cmd: 'status' }
  | { readonly cmd: 'registrations.list' }
  | { readonly cmd: 'registrations.remove'; readonly aor: string; readonly contact: string | null; readonly who: string };

export type ControlReply = { readonly ok: true; readonly result: unknown } | { readonly ok: false; readonly error: string };

export type ControlHandler = (req: ControlRequest) => Promise<unknown>;

export function controlSocketPath(dataDir: string): string {
  return join(dataDir, 'control.sock');
}

const MAX_LINE = 64 * 1024;

export function startControlServer(dataDir: string, handler: ControlHandler): Promise<Server> {
  const path = controlSocketPath(dataDir);
  // A socket file left by a server that was killed: nothing listens on it any more.
  if (existsSync(path)) unlinkSync(path);
  const server = createServer((socket) => {
    let buffered = '';
    socket.setEncoding('utf8');
    socket.on('error', () => {});
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      if (buffered.length > MAX_LINE) {
        socket.end(JSON.stringify({ ok: false, error: 'request too large' }) + '\n');
        return;
      }
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        void answer(line).then((reply) => socket.write(JSON.stringify(reply) + '\n'));
      }
    });
  });
  async function answer(line: string): Promise<ControlReply> {
    let req: ControlRequest;
    try {
      req = JSON.parse(line) as ControlRequest;
    } catch {
      return { ok: false, error: 'not JSON' };
    }
    try {
      return { ok: true, result: await handler(req) };
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    }
  }
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      chmodSync(path, 0o600);
      resolve(server);
    });
  });
}

/**
 * Sends one request to the server running on `dataDir`. Resolves `null` when no server
 * listens there (the caller then works on the database directly).
 */
export function controlRequest(dataDir: string, req: ControlRequest, timeoutMs = 10_000): Promise<ControlReply | null> {
  const path = controlSocketPath(dataDir);
  if (!existsSync(path)) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let buffered = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server on ${dataDir} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(JSON.stringify(req) + '\n'));
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      const nl = buffered.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      socket.end();
      try {
        resolve(JSON.parse(buffered.slice(0, nl)) as ControlReply);
      } catch {
        reject(new Error('the server sent a reply that is not JSON'));
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      // A stale socket file: no server behind it.
      if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') resolve(null);
      else reject(err);
    });
  });
}
