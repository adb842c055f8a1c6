// System parameters (SPEC §4): the run-time keys of the config schema, read and changed
// without a restart; every change is checked by the schema, stored, applied and audited.

import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { runtimeKeyInfo, runtimeValues, valueAt } from '../config/runtime-settings.js';
import { audit, type ApiContext } from './api-context.js';

export async function settingsRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const api = app.withTypeProvider<ZodTypeProvider>();
  api.get('/settings', { config: { role: 'read-only' }, schema: { tags: ['settings'], summary: 'System parameters and their description' } }, async () => ({
    values: runtimeValues(ctx.config()),
    keys: runtimeKeyInfo(),
  }));

  api.patch(
    '/settings',
    { config: { role: 'admin' }, schema: { body: z.record(z.string(), z.unknown()), tags: ['settings'], summary: 'Change system parameters (effective at once)' } },
    async (req, reply) => {
      const changes = req.body;
      if (Object.keys(changes).length === 0) return reply.code(400).send({ error: 'body: give at least one key, e.g. {"registrar.maxBindings": 2}' });
      const before = ctx.config();
      const r = ctx.changeConfig(changes);
      if ('error' in r) return reply.code(400).send({ error: r.error });
      for (const key of Object.keys(changes)) audit(ctx, req, 'setting.change', key, valueAt(before, key), valueAt(r.config, key));
      return { values: runtimeValues(r.config) };
    },
  );
}
