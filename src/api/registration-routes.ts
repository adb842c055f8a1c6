// Registrations (docs/api.md): the filtered, sorted, paged list of live bindings, one
// binding's details with its raw last REGISTER and history, force unregister, streamed
// export, the header's figures and the live event stream.

import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Binding } from '../registrar/binding.js';
import { audit, type ApiContext } from './api-context.js';
import { parseAddressPattern } from './address-pattern.js';
import {
  SORT_KEYS,
  accountsByDomain,
  bindingMatcher,
  decodeCursor,
  encodeCursor,
  queryRegistrations,
  sortKeyOf,
  type RegistrationFilter,
} from './registration-query.js';
import { CSV_COLUMNS, csvField, registrationJson } from './registration-json.js';

const TRANSPORTS = ['UDP', 'TCP', 'TLS', 'WS', 'WSS'] as const;

const Filters = z.object({
  number: z.string().min(1).optional().describe('phone number (account username), exact'),
  numberPrefix: z.string().min(1).optional().describe('phone number starts with'),
  ip: z.string().min(1).optional().describe('source or contact address: exact, wildcard (192.168.1.x) or CIDR'),
  customer: z.string().min(1).optional().describe('customer account, exact'),
  status: z.enum(['registered', 'expiring']).optional(),
  userAgent: z.string().min(1).optional().describe('User-Agent substring, case-insensitive'),
  transport: z.preprocess((v) => (typeof v === 'string' ? v.toUpperCase() : v), z.enum(TRANSPORTS)).optional(),
  reachability: z.enum(['reachable', 'unreachable', 'unknown']).optional().describe('as the keep-alive pings found it'),
  nat: z.enum(['true', 'false']).optional().describe('behind NAT or not'),
});
const ListQuery = Filters.extend({
  sort: z.enum(SORT_KEYS).default('number'),
  order: z.enum(['asc', 'desc']).default('asc'),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().optional(),
});
const ExportQuery = Filters.extend({
  format: z.enum(['csv', 'json']).default('csv'),
  sort: z.enum(SORT_KEYS).default('number'),
  order: z.enum(['asc', 'desc']).default('asc'),
});
const IdParams = z.object({ id: z.coerce.number().int().min(1) });
const TERMINATE_NOTE = 'call routing is not enabled yet, so there were no calls to terminate';

type FilterInput = z.infer<typeof Filters>;

export async function registrationRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const share = () => ctx.config().registrar.expiringShare;
  const customerOf = (b: Binding) => ctx.accounts.find(b.username, b.domain)?.customer ?? null;

  /**
   * The filter's predicate. Reachability is judged on current state: a keep-alive answer
   * waiting for its binding's next visit (registrar/keep-alive.ts) is applied first.
   */
  const matcherOf = (filter: RegistrationFilter, now: number): ((b: Binding) => boolean) => {
    const matches = bindingMatcher(filter, now, share());
    return filter.reachability === undefined ? matches : (b) => matches(ctx.table.shown(b));
  };

  /** The filter of a query, or sends 400 and returns null. */
  const filterOf = (q: FilterInput, reply: FastifyReply): RegistrationFilter | null => {
    let ip;
    if (q.ip !== undefined) {
      ip = parseAddressPattern(q.ip);
      if (typeof ip === 'string') {
        void reply.code(400).send({ error: `querystring.ip: ${ip}` });
        return null;
      }
    }
    return {
      ...(q.number !== undefined ? { number: q.number } : {}),
      ...(q.numberPrefix !== undefined ? { numberPrefix: q.numberPrefix } : {}),
      ...(ip !== undefined ? { ip } : {}),
      ...(q.customer !== undefined ? { customerAccounts: accountsByDomain(ctx.store.accounts.keysOfCustomer(q.customer)) } : {}),
      ...(q.status !== undefined ? { status: q.status } : {}),
      ...(q.userAgent !== undefined ? { userAgent: q.userAgent.toLowerCase() } : {}),
      ...(q.transport !== undefined ? { transport: q.transport } : {}),
      ...(q.reachability !== undefined ? { reachability: q.reachability } : {}),
      ...(q.nat !== undefined ? { nat: q.nat === 'true' } : {}),
    };
  };

  const findBinding = (id: number): Binding | null => {
    for (const b of ctx.table.all()) if (b.id === id) return b;
    return null;
  };

  const forceRemove = (aor: string, contact: string | null, who: string) =>
    new Promise<number>((resolve, reject) => ctx.registrar.forceRemove(aor, contact, who, (n, err) => (err ? reject(err) : resolve(n))));

  api.get('/registrations', { config: { role: 'read-only' }, schema: { querystring: ListQuery, tags: ['registrations'], summary: 'List registrations' } }, async (req, reply) => {
    const q = req.query;
    const filter = filterOf(q, reply);
    if (filter === null) return reply;
    const cursor = q.cursor === undefined ? null : decodeCursor(q.cursor);
    if (q.cursor !== undefined && cursor === null) return reply.code(400).send({ error: 'querystring.cursor: not a cursor of this list (use nextCursor as given)' });
    const now = ctx.now();
    const page = queryRegistrations(ctx.table.snapshot(), matcherOf(filter, now), q.sort, q.order === 'desc', q.limit, cursor);
    return {
      items: page.items.map((b) => registrationJson(ctx.table.shown(b), now, share(), customerOf(b))),
      total: page.total,
      nextCursor: page.next === null ? null : encodeCursor(page.next),
    };
  });

  api.get('/registrations/export', { config: { role: 'read-only' }, schema: { querystring: ExportQuery, tags: ['registrations'], summary: 'Export the filtered list (CSV or JSON, streamed)' } }, async (req, reply) => {
    const q = req.query;
    const filter = filterOf(q, reply);
    if (filter === null) return reply;
    const now = ctx.now();
    const matches = matcherOf(filter, now);
    const rows: Binding[] = [];
    for (const b of ctx.table.snapshot()) if (matches(b)) rows.push(b);
    const dir = q.order === 'desc' ? -1 : 1;
    const keyed = rows.map((b) => ({ k: sortKeyOf(b, q.sort), b }));
    keyed.sort((x, y) => dir * (x.k === y.k ? x.b.id - y.b.id : x.k < y.k ? -1 : 1));
    audit(ctx, req, 'registrations.export', null, null, { format: q.format, rows: rows.length, filters: { ...q, format: undefined } });
    const stamp = new Date(now).toISOString().replace(/[:.]/g, '-');
    reply.raw.writeHead(200, {
      'content-type': q.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8',
      'content-disposition': `attachment; filename="registrations-${stamp}.${q.format}"`,
      'cache-control': 'no-store',
    });
    reply.hijack();
    const res = reply.raw;
    // Written in chunks of rows, waiting for 'drain': 100,000 rows never sit in memory as text.
    const CHUNK = 500;
    let i = 0;
    const writeMore = (): void => {
      while (i < keyed.length) {
        let out = '';
        if (i === 0 && q.format === 'csv') out += CSV_COLUMNS.join(',') + '\r\n';
        if (i === 0 && q.format === 'json') out += '[';
        const end = Math.min(keyed.length, i + CHUNK);
        for (; i < end; i++) {
          const b = keyed[i]!.b;
          const r = registrationJson(ctx.table.shown(b), now, share(), customerOf(b));
          out += q.format === 'csv' ? CSV_COLUMNS.map((c) => csvField(r[c])).join(',') + '\r\n' : (i > 0 ? ',\n' : '\n') + JSON.stringify(r);
        }
        if (i >= keyed.length) out += q.format === 'json' ? '\n]\n' : '';
        if (!res.write(out)) {
          res.once('drain', writeMore);
          return;
        }
      }
      if (keyed.length === 0) res.write(q.format === 'csv' ? CSV_COLUMNS.join(',') + '\r\n' : '[]\n');
      res.end();
    };
    writeMore();
  });

  api.get('/registrations/:id', { config: { role: 'read-only' }, schema: { params: IdParams, tags: ['registrations'], summary: 'One registration with its raw last REGISTER and history' } }, async (req, reply) => {
    const b = findBinding(req.params.id);
    if (b === null) return reply.code(404).send({ error: `no registration ${req.params.id} (it may have expired or been removed)` });
    const now = ctx.now();
    const messages = ctx.store.bindings.lastMessages(b.id);
    const history = ctx.store.events.query({ aor: b.aor, limit: 100 }).filter((e) => e.bindingId === null || e.bindingId === b.id);
    return {
      registration: registrationJson(ctx.table.shown(b), now, share(), customerOf(b)),
      lastRequest: messages?.request ?? null,
      lastResponse: messages?.response ?? null,
      history,
    };
  });

  api.delete(
    '/registrations/:id',
    {
      config: { role: 'operator' },
      schema: { params: IdParams, querystring: z.object({ terminateCalls: z.enum(['true', 'false']).optional() }), tags: ['registrations'], summary: 'Force unregister one binding' },
    },
    async (req, reply) => {
      const b = findBinding(req.params.id);
      if (b === null) return reply.code(404).send({ error: `no registration ${req.params.id} (it may have expired or been removed)` });
      const before = registrationJson(ctx.table.shown(b), ctx.now(), share(), customerOf(b));
      const removed = await forceRemove(b.aor, b.contact, req.principal!.user.name);
      const terminate = req.query.terminateCalls === 'true';
      audit(ctx, req, 'registration.unregister', b.aor, before, { removed, terminateCalls: terminate });
      return { removed, callsTerminated: null, ...(terminate ? { note: TERMINATE_NOTE } : {}) };
    },
  );

  api.post(
    '/registrations/unregister',
    {
      config: { role: 'operator' },
      schema: {
        body: z.object({ aor: z.string().min(1), contact: z.string().min(1).optional(), terminateCalls: z.boolean().optional() }),
        tags: ['registrations'],
        summary: 'Force unregister every binding of an AOR (or one contact)',
      },
    },
    async (req) => {
      const { aor, contact, terminateCalls } = req.body;
      const canonical = aor.startsWith('sip:') || aor.startsWith('sips:') ? aor : `sip:${aor}`;
      const removed = await forceRemove(canonical, contact ?? null, req.principal!.user.name);
      audit(ctx, req, 'registration.unregister', canonical, contact ? { contact } : null, { removed, terminateCalls: terminateCalls ?? false });
      return { removed, callsTerminated: null, ...(terminateCalls ? { note: TERMINATE_NOTE } : {}) };
    },
  );

  api.get('/stats', { config: { role: 'read-only' }, schema: { tags: ['registrations'], summary: 'Registered count and registration rate' } }, async () => ctx.stream.stats);

  api.get('/stream', { config: { role: 'read-only' }, schema: { tags: ['registrations'], summary: 'Live registration events and stats (Server-Sent Events)' } }, async (req, reply) => {
    reply.hijack();
    ctx.stream.attach(reply.raw);
    req.raw.on('close', () => reply.raw.end());
  });
}
