// Who is calling: a console session (cookie, with a CSRF token for every state change) or an
// API token (Bearer), resolved to a console user and its role. Routes declare the least role
// they need; a session or token whose user was removed or demoted stops working at once.

import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sameCharsAt } from '../auth/constant-time.js';
import { hashApiToken } from '../auth/api-token.js';
import type { Store, UserRecord, UserRole } from '../store/store.js';

export const SESSION_COOKIE = 'rollcall_session';
export const CSRF_HEADER = 'x-csrf-token';

const RANK: Record<UserRole, number> = { 'read-only': 0, operator: 1, admin: 2 };

export interface Principal {
  readonly user: UserRecord;
  readonly via: 'session' | 'token';
  /** The session's id hash (logout) or the token's id. */
  readonly sessionIdHash: string | null;
  readonly csrfToken: string | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** Least role a route needs; routes without one are public (login, docs, the console). */
    role?: UserRole;
  }
}

export function sessionIdHash(sessionId: string): string {
  return createHash('sha256').update(sessionId).digest('hex');
}

export function mayAct(role: UserRole, needed: UserRole): boolean {
  return RANK[role] >= RANK[needed];
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Sessions are extended at most this often (a write per request would be wasteful). */
const EXTEND_EVERY_MS = 60_000;

export interface AuthDeps {
  readonly store: Pick<Store, 'users' | 'tokens' | 'sessions'>;
  readonly sessionTtl: () => number;
  readonly now: () => number;
}

/** Resolves the principal of a request; null when it carries no valid credentials. */
export function resolvePrincipal(req: FastifyRequest, deps: AuthDeps): Principal | null {
  const now = deps.now();
  const authz = req.headers.authorization;
  if (typeof authz === 'string' && /^bearer\s+/i.test(authz)) {
    const token = deps.store.tokens.findByHash(hashApiToken(authz.replace(/^bearer\s+/i, '').trim()));
    if (token === null) return null;
    const user = deps.store.users.findById(token.userId);
    if (user === null) return null;
    if (token.lastUsedAt === null || now - token.lastUsedAt > EXTEND_EVERY_MS) deps.store.tokens.touch(token.id, now);
    return { user, via: 'token', sessionIdHash: null, csrfToken: null };
  }
  const sid = req.cookies[SESSION_COOKIE];
  if (typeof sid !== 'string' || sid === '') return null;
  const idHash = sessionIdHash(sid);
  const session = deps.store.sessions.find(idHash);
  if (session === null || session.expiresAt <= now) return null;
  const user = deps.store.users.findById(session.userId);
  if (user === null) return null;
  const ttlMs = deps.sessionTtl() * 1000;
  if (now + ttlMs - session.expiresAt > EXTEND_EVERY_MS) deps.store.sessions.extend(idHash, now + ttlMs);
  return { user, via: 'session', sessionIdHash: idHash, csrfToken: session.csrfToken };
}

/**
 * The onRequest check of a route that declares a role: 401 without credentials, 403 for a
 * session's state change without its CSRF token, 403 for a role below the route's.
 */
export function authorize(req: FastifyRequest, reply: FastifyReply, deps: AuthDeps): boolean {
  const needed = req.routeOptions.config.role;
  if (needed === undefined) return true;
  const p = resolvePrincipal(req, deps);
  req.principal = p;
  if (p === null) {
    void reply.code(401).send({ error: 'not logged in: log in at /api/login, or send Authorization: Bearer <token>' });
    return false;
  }
  if (p.via === 'session' && UNSAFE.has(req.method)) {
    const sent = req.headers[CSRF_HEADER];
    if (typeof sent !== 'string' || p.csrfToken === null || sent.length !== p.csrfToken.length || !sameCharsAt(sent, 0, p.csrfToken, 0, sent.length)) {
      void reply.code(403).send({ error: `missing or wrong ${CSRF_HEADER} header (the csrfToken returned by /api/login or /api/session)` });
      return false;
    }
  }
  if (!mayAct(p.user.role, needed)) {
    void reply.code(403).send({ error: `this needs the ${needed} role; ${p.user.name} is ${p.user.role}` });
    return false;
  }
  return true;
}
