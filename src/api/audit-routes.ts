// The audit log (admin): who did what, from where, when, with the before/after of the change.

import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AuditQuery } from '../store/store.js';
import type { ApiContext } from './api-context.js';

const AuditQueryString = z.object({
  user: z.string().min(1).optional(),
  action: z.string().min(1).optional(),
  since: z.coerce.number().int().min(0).optional(),
  until: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.coerce.number().int().min(1).optional().describe('the nextCursor of the previous page'),
});

export async function auditRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const api = app.withTypeProvider<ZodTypeProvider>();
  api.get('/audit', { config: { role: 'admin' }, schema: { querystring: AuditQueryString, tags: ['audit'], summary: 'The audit log, newest first' } }, async (req) => {
    const q = req.query;
    const query: { -readonly [K in keyof AuditQuery]: AuditQuery[K] } = { limit: q.limit + 1 };
    if (q.user !== undefined) query.user = q.user;
    if (q.action !== undefined) query.action = q.action;
    if (q.since !== undefined) query.since = q.since;
    if (q.until !== undefined) query.until = q.until;
    if (q.cursor !== undefined) query.beforeId = q.cursor;
    const rows = ctx.store.audit.query(query);
    const more = rows.length > q.limit;
    const items = more ? rows.slice(0, q.limit) : rows;
    return { items, nextCursor: more ? items[items.length - 1]!.id : null };
  });
}
