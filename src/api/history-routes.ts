// Registration history search (docs/api.md, "History"): by number, address, customer, event
// type and time range, newest first, cursor-paged.

import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { EVENT_TYPES, type EventSearch } from '../store/store.js';
import type { ApiContext } from './api-context.js';
import { parseAddressPattern } from './address-pattern.js';

const HistoryQuery = z.object({
  number: z.string().min(1).optional(),
  ip: z.string().min(1).optional().describe('source address: exact, wildcard (192.168.1.x) or CIDR'),
  customer: z.string().min(1).optional(),
  type: z.enum(EVENT_TYPES).optional(),
  since: z.coerce.number().int().min(0).optional().describe('epoch ms, inclusive'),
  until: z.coerce.number().int().min(0).optional().describe('epoch ms, exclusive'),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().regex(/^\d+\.\d+$/, 'the nextCursor of the previous page').optional(),
});

export async function historyRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const api = app.withTypeProvider<ZodTypeProvider>();
  api.get('/history', { config: { role: 'read-only' }, schema: { querystring: HistoryQuery, tags: ['history'], summary: 'Search the registration history' } }, async (req, reply) => {
    const q = req.query;
    const search: { -readonly [K in keyof EventSearch]: EventSearch[K] } = { limit: q.limit + 1 };
    if (q.number !== undefined) search.number = q.number;
    if (q.type !== undefined) search.type = q.type;
    if (q.since !== undefined) search.since = q.since;
    if (q.until !== undefined) search.until = q.until;
    if (q.customer !== undefined) {
      search.aors = ctx.store.accounts.keysOfCustomer(q.customer).map((k) => `sip:${k}`);
    }
    if (q.ip !== undefined) {
      const p = parseAddressPattern(q.ip);
      if (typeof p === 'string') return reply.code(400).send({ error: `querystring.ip: ${p}` });
      if (p.prefix !== null && p.prefix === p.text) search.sourceAddress = p.text;
      else if (p.prefix !== null && p.prefix !== '') search.sourcePrefix = p.prefix;
      else search.sourceMatches = (a) => p.matches(a);
    }
    if (q.cursor !== undefined) {
      const [time, id] = q.cursor.split('.').map(Number) as [number, number];
      search.before = { time, id };
    }
    const rows = ctx.store.events.search(search);
    const more = rows.length > q.limit;
    const items = more ? rows.slice(0, q.limit) : rows;
    const last = items[items.length - 1];
    return { items, nextCursor: more && last ? `${last.time}.${last.id}` : null };
  });
}
