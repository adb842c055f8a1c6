// SIP security (SPEC §7, docs/api.md "Security"): blocks (lift, add), the allow and deny
// lists (global or per customer), and the failed-registration log with its counts.

import { isIP } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ADDRESS_LISTS, FAILURE_REASONS, type FailureQuery } from '../store/store.js';
import { parseCidr } from '../security/address-list.js';
import { audit, type ApiContext } from './api-context.js';

const BlockKind = z.enum(['address', 'username']);

export async function securityRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get('/security/blocks', { config: { role: 'read-only' }, schema: { tags: ['security'], summary: 'Blocked SIP sources and usernames in force' } }, async () =>
    ctx.store.blocks.list(ctx.now()),
  );

  api.post(
    '/security/blocks',
    {
      config: { role: 'operator' },
      schema: {
        body: z.object({
          kind: BlockKind,
          value: z.string().min(1).max(300),
          duration: z.number().int().min(1).optional().describe('seconds; none: until removed'),
          reason: z.string().max(300).optional(),
        }),
        tags: ['security'],
        summary: 'Block a source address or a username (user@domain)',
      },
    },
    async (req, reply) => {
      const { kind, value, duration, reason } = req.body;
      if (kind === 'address' && isIP(value) === 0) return reply.code(400).send({ error: `body.value: "${value}" is not an IP address` });
      if (kind === 'username' && !/^[^@\s]+@[^@\s]+$/.test(value)) return reply.code(400).send({ error: `body.value: "${value}" is not user@domain` });
      const until = duration === undefined ? null : ctx.now() + duration * 1000;
      ctx.security.block(kind, value.toLowerCase(), reason ?? `blocked by ${req.principal!.user.name}`, until, req.principal!.user.name);
      audit(ctx, req, 'block.add', `${kind} ${value}`, null, { until, reason: reason ?? null });
      return reply.code(201).send(ctx.store.blocks.list(ctx.now()).find((b) => b.kind === kind && b.value === value.toLowerCase()) ?? null);
    },
  );

  api.delete(
    '/security/blocks/:kind/:value',
    { config: { role: 'operator' }, schema: { params: z.object({ kind: BlockKind, value: z.string().min(1) }), tags: ['security'], summary: 'Lift a block' } },
    async (req, reply) => {
      const { kind, value } = req.params;
      const before = ctx.store.blocks.list(ctx.now()).find((b) => b.kind === kind && b.value === value) ?? null;
      if (!ctx.security.unblock(kind, value, req.principal!.user.name)) return reply.code(404).send({ error: `no block of ${kind} ${value}` });
      audit(ctx, req, 'block.remove', `${kind} ${value}`, before, null);
      return reply.code(204).send();
    },
  );

  api.get(
    '/security/kernel-filter',
    { config: { role: 'read-only' }, schema: { tags: ['security'], summary: 'Whether blocked sources are dropped by the kernel (nftables), and how much it dropped' } },
    async () => {
      const k = ctx.security.kernel;
      const c = k.counters();
      return { mode: ctx.config().security.kernelFilter, active: k.active, table: k.active ? `inet ${k.table}` : null, droppedPackets: c?.packets ?? null, droppedBytes: c?.bytes ?? null };
    },
  );

  api.get('/security/lists', { config: { role: 'read-only' }, schema: { tags: ['security'], summary: 'Allow and deny list entries' } }, async () => ctx.store.addressLists.all());

  api.post(
    '/security/lists',
    {
      config: { role: 'operator' },
      schema: {
        body: z.object({ list: z.enum(ADDRESS_LISTS), cidr: z.string().min(1).max(100), customer: z.string().min(1).nullable().optional(), note: z.string().max(300).nullable().optional() }),
        tags: ['security'],
        summary: 'Add a CIDR block to the allow or deny list (global, or for one customer)',
      },
    },
    async (req, reply) => {
      const b = req.body;
      const parsed = parseCidr(b.cidr);
      if (typeof parsed === 'string') return reply.code(400).send({ error: `body.cidr: ${parsed}` });
      try {
        const e = ctx.store.addressLists.add({ list: b.list, cidr: b.cidr, customer: b.customer ?? null, note: b.note ?? null, createdBy: req.principal!.user.name });
        ctx.security.reload();
        audit(ctx, req, 'list.add', `${e.list} ${e.cidr}`, null, e);
        return reply.code(201).send(e);
      } catch (err) {
        const message = (err as Error).message;
        return reply.code(/already|duplicate|UNIQUE/i.test(message) ? 409 : 400).send({ error: message });
      }
    },
  );

  api.delete('/security/lists/:id', { config: { role: 'operator' }, schema: { params: z.object({ id: z.coerce.number().int().min(1) }), tags: ['security'], summary: 'Remove a list entry' } }, async (req, reply) => {
    const removed = ctx.store.addressLists.remove(req.params.id);
    if (removed === null) return reply.code(404).send({ error: `no list entry ${req.params.id}` });
    ctx.security.reload();
    audit(ctx, req, 'list.remove', `${removed.list} ${removed.cidr}`, removed, null);
    return reply.code(204).send();
  });

  const Range = {
    since: z.coerce.number().int().min(0).optional().describe('epoch ms, inclusive'),
    until: z.coerce.number().int().min(0).optional().describe('epoch ms, exclusive'),
  };

  api.get(
    '/security/failures',
    {
      config: { role: 'read-only' },
      schema: {
        querystring: z.object({
          ...Range,
          reason: z.enum(FAILURE_REASONS).optional(),
          ip: z.string().min(1).optional(),
          username: z.string().min(1).optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
          cursor: z.string().regex(/^\d+\.\d+$/, 'the nextCursor of the previous page').optional(),
        }),
        tags: ['security'],
        summary: 'Failed registrations, newest first',
      },
    },
    async (req) => {
      const q = req.query;
      const query: { -readonly [K in keyof FailureQuery]: FailureQuery[K] } = { limit: q.limit + 1 };
      if (q.since !== undefined) query.since = q.since;
      if (q.until !== undefined) query.until = q.until;
      if (q.reason !== undefined) query.reason = q.reason;
      if (q.ip !== undefined) query.sourceAddress = q.ip;
      if (q.username !== undefined) query.username = q.username;
      if (q.cursor !== undefined) {
        const [time, id] = q.cursor.split('.').map(Number) as [number, number];
        query.before = { time, id };
      }
      const rows = ctx.store.failures.query(query);
      const more = rows.length > q.limit;
      const items = more ? rows.slice(0, q.limit) : rows;
      const last = items[items.length - 1];
      return { items, nextCursor: more && last ? `${last.time}.${last.id}` : null };
    },
  );

  api.get(
    '/security/failures/counts',
    {
      config: { role: 'read-only' },
      schema: { querystring: z.object({ ...Range, limit: z.coerce.number().int().min(1).max(1000).default(20) }), tags: ['security'], summary: 'Failed registrations counted by reason, source address and username' },
    },
    async (req) => {
      const q = req.query;
      return ctx.store.failures.counts({ limit: q.limit, ...(q.since !== undefined ? { since: q.since } : {}), ...(q.until !== undefined ? { until: q.until } : {}) });
    },
  );
}
