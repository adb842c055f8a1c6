// SIP accounts and customers (docs/api.md, "Accounts and customers"). Hashes never leave
// the store: an account is shown without them, and a password arrives only to be hashed.

import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { parse as parseCsv } from 'csv-parse/sync';
import { z } from 'zod';
import { AccountInputError, accountWithPassword, ha1sFor } from '../auth/new-account.js';
import type { AccountRecord, NewAccount } from '../store/store.js';
import { audit, type ApiContext } from './api-context.js';

export function accountJson(a: AccountRecord) {
  return {
    id: a.id,
    username: a.username,
    domain: a.domain,
    customer: a.customer,
    enabled: a.enabled,
    minExpires: a.minExpires,
    maxExpires: a.maxExpires,
    maxBindings: a.maxBindings,
    createdAt: a.createdAt,
    updatedAt: a.updatedAt,
  };
}

const nullableCount = (min: number) => z.number().int().min(min).nullable().optional();
const Editable = z.object({
  customer: z.string().max(200).nullable().optional(),
  enabled: z.boolean().optional(),
  minExpires: nullableCount(0),
  maxExpires: nullableCount(0),
  maxBindings: nullableCount(1),
});
const NewAccountBody = Editable.extend({
  username: z.string().min(1).max(200),
  domain: z.string().min(1).max(253),
  password: z.string().min(1).max(1000),
});
const IdParams = z.object({ id: z.coerce.number().int().min(1) });

/** Store errors a user caused (duplicates, bad ranges) are 4xx with their message. */
function storeError(err: unknown): { status: number; error: string } {
  const message = err instanceof Error ? err.message : String(err);
  if (/already exists/.test(message)) return { status: 409, error: message };
  if (err instanceof AccountInputError || /^account |^row \d+/.test(message)) return { status: 400, error: message };
  throw err;
}

export async function accountRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get(
    '/accounts',
    {
      config: { role: 'read-only' },
      schema: {
        querystring: z.object({
          q: z.string().optional(),
          customer: z.string().min(1).optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
          cursor: z.coerce.number().int().min(0).optional(),
        }),
        tags: ['accounts'],
        summary: 'List accounts',
      },
    },
    async (req) => {
      const q = req.query;
      const { items, total } = ctx.store.accounts.query({
        limit: q.limit + 1,
        ...(q.q !== undefined ? { q: q.q } : {}),
        ...(q.customer !== undefined ? { customer: q.customer } : {}),
        ...(q.cursor !== undefined ? { afterId: q.cursor } : {}),
      });
      const more = items.length > q.limit;
      const page = more ? items.slice(0, q.limit) : items;
      return { items: page.map(accountJson), total, nextCursor: more ? String(page[page.length - 1]!.id) : null };
    },
  );

  api.get('/accounts/:id', { config: { role: 'read-only' }, schema: { params: IdParams, tags: ['accounts'], summary: 'One account' } }, async (req, reply) => {
    const a = ctx.store.accounts.byId(req.params.id);
    return a === null ? reply.code(404).send({ error: `no account ${req.params.id}` }) : accountJson(a);
  });

  api.post('/accounts', { config: { role: 'operator' }, schema: { body: NewAccountBody, tags: ['accounts'], summary: 'Create an account' } }, async (req, reply) => {
    const b = req.body;
    try {
      const base = accountWithPassword(b.username, b.domain, b.password, b.customer ?? null, b.maxBindings ?? null);
      const a = ctx.store.accounts.add({
        ...base,
        ...(b.enabled !== undefined ? { enabled: b.enabled } : {}),
        ...(b.minExpires !== undefined ? { minExpires: b.minExpires } : {}),
        ...(b.maxExpires !== undefined ? { maxExpires: b.maxExpires } : {}),
      });
      ctx.accountsChanged();
      audit(ctx, req, 'account.create', `${a.username}@${a.domain}`, null, accountJson(a));
      return reply.code(201).send(accountJson(a));
    } catch (err) {
      const e = storeError(err);
      return reply.code(e.status).send({ error: e.error });
    }
  });

  api.patch('/accounts/:id', { config: { role: 'operator' }, schema: { params: IdParams, body: Editable, tags: ['accounts'], summary: 'Change an account (enable/disable, customer, limits)' } }, async (req, reply) => {
    const before = ctx.store.accounts.byId(req.params.id);
    if (before === null) return reply.code(404).send({ error: `no account ${req.params.id}` });
    try {
      const change: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(req.body)) if (v !== undefined) change[k] = v;
      const after = ctx.store.accounts.update(req.params.id, change)!;
      audit(ctx, req, 'account.update', `${after.username}@${after.domain}`, accountJson(before), accountJson(after));
      ctx.accountsChanged();
      return accountJson(after);
    } catch (err) {
      const e = storeError(err);
      return reply.code(e.status).send({ error: e.error });
    }
  });

  api.post(
    '/accounts/:id/password',
    { config: { role: 'operator' }, schema: { params: IdParams, body: z.object({ password: z.string().min(1).max(1000) }), tags: ['accounts'], summary: 'Reset the SIP password' } },
    async (req, reply) => {
      const a = ctx.store.accounts.byId(req.params.id);
      if (a === null) return reply.code(404).send({ error: `no account ${req.params.id}` });
      ctx.store.accounts.update(a.id, ha1sFor(a.username, a.domain, req.body.password));
      ctx.accountsChanged();
      audit(ctx, req, 'account.password', `${a.username}@${a.domain}`, null, null);
      return reply.code(204).send();
    },
  );

  api.delete('/accounts/:id', { config: { role: 'operator' }, schema: { params: IdParams, tags: ['accounts'], summary: 'Delete an account' } }, async (req, reply) => {
    const a = ctx.store.accounts.byId(req.params.id);
    if (a === null) return reply.code(404).send({ error: `no account ${req.params.id}` });
    ctx.store.accounts.remove(a.id);
    ctx.accountsChanged();
    audit(ctx, req, 'account.delete', `${a.username}@${a.domain}`, accountJson(a), null);
    return reply.code(204).send();
  });

  api.post('/accounts/import', { config: { role: 'operator' }, schema: { body: z.string(), tags: ['accounts'], summary: 'Import accounts from CSV (username,domain,password,customer)' } }, async (req, reply) => {
    let rows: Record<string, string>[];
    try {
      rows = parseCsv(req.body, { columns: true, skip_empty_lines: true, trim: true }) as Record<string, string>[];
    } catch (err) {
      return reply.code(400).send({ error: `CSV: ${(err as Error).message}` });
    }
    const accounts: NewAccount[] = [];
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      if (!r['username'] || !r['domain'] || r['password'] === undefined) {
        return reply.code(400).send({ error: `line ${i + 2}: needs username, domain and password (header row: username,domain,password,customer)` });
      }
      try {
        accounts.push(accountWithPassword(r['username'], r['domain'], r['password'], r['customer'] ?? null));
      } catch (err) {
        return reply.code(400).send({ error: `line ${i + 2}: ${(err as Error).message}` });
      }
    }
    try {
      const n = ctx.store.accounts.addMany(accounts);
      ctx.accountsChanged();
      audit(ctx, req, 'account.import', null, null, { imported: n });
      return { imported: n };
    } catch (err) {
      const e = storeError(err);
      return reply.code(e.status).send({ error: e.error.replace(/^row (\d+)/, (_m, n: string) => `line ${Number(n) + 1}`) });
    }
  });

  api.get('/customers', { config: { role: 'read-only' }, schema: { tags: ['accounts'], summary: 'Customer accounts and their number of accounts' } }, async () => ctx.store.accounts.customers());
}
