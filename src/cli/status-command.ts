// `rollcall status`: what the running server says about itself (bindings, sockets,
// counters, memory), through the control socket.

import { controlRequest } from '../control/control-channel.js';
import { resolveDataDir, type DataDirOptions } from './data-dir.js';
import { UsageError } from './usage-error.js';

export async function statusCommand(o: DataDirOptions & { json?: boolean }): Promise<void> {
  const dataDir = resolveDataDir(o);
  const reply = await controlRequest(dataDir, { cmd: 'status' });
  if (reply === null) throw new UsageError(`no server is running on ${dataDir}`);
  if (!reply.ok) throw new Error(reply.error);
  const s = reply.result as { bindings: number; aors: number; listen: string[]; uptimeSeconds: number; memory: Record<string, number>; registrar: Record<string, number>; transport: Record<string, number>; keepAlive?: Record<string, number>; journal: Record<string, number> };
  if (o.json) {
    process.stdout.write(JSON.stringify(s, null, 2) + '\n');
    return;
  }
  const mb = (n: number | undefined) => `${Math.round((n ?? 0) / 1048576)} MB`;
  const lines = [
    `bindings      ${s.bindings} (${s.aors} AORs)`,
    `listening     ${s.listen.join(', ')}`,
    `uptime        ${s.uptimeSeconds} s`,
    `memory        rss ${mb(s.memory['rss'])}, heap ${mb(s.memory['heapUsed'])} of ${mb(s.memory['heapTotal'])}, external ${mb(s.memory['external'])}`,
    `registrar     ${Object.entries(s.registrar).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `transport     ${Object.entries(s.transport).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    ...(s.keepAlive ? [`keep-alive    ${Object.entries(s.keepAlive).map(([k, v]) => `${k} ${v}`).join(', ')}`] : []),
    `store         ${s.journal['batches']} transactions, ${s.journal['ops']} changes, ${s.journal['failedBatches']} failed, ${s.journal['queuedOps']} queued`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}
