// Console users (admin only): list, add, change role or password, delete. The last admin
// can be neither removed nor demoted, so the console can never lock everyone out.

import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { hashPassword } from '../auth/password-hash.js';
import { passwordProblem } from '../auth/password-policy.js';
import { USER_ROLES, type UserRecord } from '../store/store.js';
import { audit, type ApiContext } from './api-context.js';
import { userKey } from './login-lockout.js';

const userJson = (u: UserRecord) => ({ name: u.name, role: u.role, createdAt: u.createdAt, lastLoginAt: u.lastLoginAt });
const NameParams = z.object({ name: z.string().min(1) });

export async function userRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const policy = () => ctx.config().http.passwordPolicy;

  api.get('/users', { config: { role: 'admin' }, schema: { tags: ['users'], summary: 'Console users' } }, async () => ctx.store.users.list().map(userJson));

  api.post(
    '/users',
    {
      config: { role: 'admin' },
      schema: {
        body: z.object({ name: z.string().min(1).max(64).regex(/^[A-Za-z0-9._@-]+$/, 'letters, digits and . _ @ - only'), role: z.enum(USER_ROLES), password: z.string().min(1).max(1000) }),
        tags: ['users'],
        summary: 'Add a console user',
      },
    },
    async (req, reply) => {
      const { name, role, password } = req.body;
      const problem = passwordProblem(name, password, policy());
      if (problem !== null) return reply.code(400).send({ error: `body.password: ${problem}` });
      if (ctx.store.users.find(name) !== null) return reply.code(409).send({ error: `user ${name} already exists` });
      const u = ctx.store.users.add({ name, role, passwordHash: await hashPassword(password) });
      audit(ctx, req, 'user.add', name, null, { name, role });
      return reply.code(201).send(userJson(u));
    },
  );

  api.patch(
    '/users/:name',
    { config: { role: 'admin' }, schema: { params: NameParams, body: z.object({ role: z.enum(USER_ROLES).optional(), password: z.string().min(1).max(1000).optional() }), tags: ['users'], summary: 'Change a user’s role or password' } },
    async (req, reply) => {
      const u = ctx.store.users.find(req.params.name);
      if (u === null) return reply.code(404).send({ error: `no user ${req.params.name}` });
      const { role, password } = req.body;
      if (role !== undefined && role !== 'admin' && u.role === 'admin' && ctx.store.users.countAdmins() <= 1) {
        return reply.code(409).send({ error: `${u.name} is the last admin: make another user admin first` });
      }
      if (password !== undefined) {
        const problem = passwordProblem(u.name, password, policy());
        if (problem !== null) return reply.code(400).send({ error: `body.password: ${problem}` });
      }
      const after = ctx.store.users.update(u.name, {
        ...(role !== undefined ? { role } : {}),
        ...(password !== undefined ? { passwordHash: await hashPassword(password) } : {}),
      })!;
      if (password !== undefined) {
        // A new password ends every session of that user (but the one making the change).
        ctx.store.sessions.removeForUser(u.id);
        ctx.lockout.clear(userKey(u.name));
      }
      audit(ctx, req, password !== undefined ? 'user.password' : 'user.role', u.name, { role: u.role }, { role: after.role });
      return userJson(after);
    },
  );

  api.delete('/users/:name', { config: { role: 'admin' }, schema: { params: NameParams, tags: ['users'], summary: 'Delete a console user' } }, async (req, reply) => {
    const u = ctx.store.users.find(req.params.name);
    if (u === null) return reply.code(404).send({ error: `no user ${req.params.name}` });
    if (u.role === 'admin' && ctx.store.users.countAdmins() <= 1) return reply.code(409).send({ error: `${u.name} is the last admin and cannot be deleted` });
    ctx.store.users.remove(u.name);
    audit(ctx, req, 'user.remove', u.name, userJson(u), null);
    return reply.code(204).send();
  });
}
