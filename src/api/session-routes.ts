// Login, logout, the current session, and API tokens (docs/api.md, "Authentication").

import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { newApiToken } from '../auth/api-token.js';
import { dummyPasswordHash, verifyPassword } from '../auth/password-hash.js';
import { audit, type ApiContext } from './api-context.js';
import { addressKey, userKey } from './login-lockout.js';
import { SESSION_COOKIE, resolvePrincipal, sessionIdHash } from './request-auth.js';

const LoginBody = z.object({
  username: z.string().min(1).max(200),
  password: z.string().min(1).max(1000),
});

export async function sessionRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const authDeps = { store: ctx.store, sessionTtl: () => ctx.config().http.sessionTtl, now: ctx.now };

  api.post('/login', { schema: { body: LoginBody, tags: ['session'], summary: 'Log in; sets the session cookie' } }, async (req, reply) => {
    const { username, password } = req.body;
    const now = ctx.now();
    const keys = [userKey(username), addressKey(req.ip)];
    const locked = ctx.lockout.lockedFor(keys, now);
    if (locked > 0) {
      audit(ctx, req, 'login.locked', username, null, null);
      return reply
        .code(429)
        .header('retry-after', String(locked))
        .send({ error: `too many failed logins: try again in ${locked} s`, retryAfter: locked });
    }
    const user = ctx.store.users.find(username);
    // An unknown user costs the same hash as a known one: timing does not tell which exists.
    const ok = (await verifyPassword(password, user?.passwordHash ?? (await dummyPasswordHash()))) && user !== null;
    if (!ok || user === null) {
      const lockedNow = ctx.lockout.fail(keys, ctx.now());
      audit(ctx, req, 'login.failed', username, null, lockedNow > 0 ? { lockedFor: lockedNow } : null);
      return reply.code(401).send({ error: 'wrong user name or password' });
    }
    ctx.lockout.succeed(userKey(username));
    const sessionId = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(24).toString('base64url');
    const ttl = ctx.config().http.sessionTtl;
    ctx.store.sessions.add({ idHash: sessionIdHash(sessionId), userId: user.id, csrfToken, createdAt: now, expiresAt: now + ttl * 1000, address: req.ip });
    ctx.store.users.update(user.name, { lastLoginAt: now });
    req.principal = { user, via: 'session', sessionIdHash: null, csrfToken };
    audit(ctx, req, 'login', user.name, null, null);
    void reply.setCookie(SESSION_COOKIE, sessionId, { httpOnly: true, sameSite: 'strict', path: '/', maxAge: ttl });
    return { user: { name: user.name, role: user.role }, csrfToken };
  });

  api.post('/logout', { schema: { tags: ['session'], summary: 'End the session' } }, async (req, reply) => {
    const p = resolvePrincipal(req, authDeps);
    if (p?.sessionIdHash) {
      ctx.store.sessions.remove(p.sessionIdHash);
      req.principal = p;
      audit(ctx, req, 'logout', p.user.name, null, null);
    }
    void reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.code(204).send();
  });

  api.get('/session', { config: { role: 'read-only' }, schema: { tags: ['session'], summary: 'The logged-in user' } }, async (req) => {
    const p = req.principal!;
    return { user: { name: p.user.name, role: p.user.role }, csrfToken: p.csrfToken };
  });

  api.get('/tokens', { config: { role: 'read-only' }, schema: { tags: ['session'], summary: 'Your API tokens (without their secret)' } }, async (req) => {
    return ctx.store.tokens.listFor(req.principal!.user.id).map((t) => ({ id: t.id, name: t.name, createdAt: t.createdAt, lastUsedAt: t.lastUsedAt }));
  });

  api.post(
    '/tokens',
    { config: { role: 'read-only' }, schema: { body: z.object({ name: z.string().min(1).max(100) }), tags: ['session'], summary: 'Create an API token (shown once)' } },
    async (req, reply) => {
      const { token, hash } = newApiToken();
      const rec = ctx.store.tokens.add({ userId: req.principal!.user.id, name: req.body.name, tokenHash: hash });
      audit(ctx, req, 'token.create', req.body.name, null, { id: rec.id, name: rec.name });
      return reply.code(201).send({ id: rec.id, name: rec.name, token });
    },
  );

  api.delete(
    '/tokens/:id',
    { config: { role: 'read-only' }, schema: { params: z.object({ id: z.coerce.number().int() }), tags: ['session'], summary: 'Revoke one of your API tokens' } },
    async (req, reply) => {
      if (!ctx.store.tokens.remove(req.params.id, req.principal!.user.id)) return reply.code(404).send({ error: `no token ${req.params.id} of yours` });
      audit(ctx, req, 'token.revoke', String(req.params.id), null, null);
      return reply.code(204).send();
    },
  );
}
