// The HTTP edge of `rollcall serve` (SPEC §5): the management API under /api/ (fastify, routes
// declared with zod schemas from which the OpenAPI description at /api/docs is generated) and
// the web console's built files at /. Every /api/ route but login and the docs needs a
// session or a token (request-auth.ts).

import { existsSync } from 'node:fs';
import fastifyCookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors, jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { ApiContext } from './api-context.js';
import { authorize } from './request-auth.js';
import { accountRoutes } from './account-routes.js';
import { auditRoutes } from './audit-routes.js';
import { historyRoutes } from './history-routes.js';
import { registrationRoutes } from './registration-routes.js';
import { sessionRoutes } from './session-routes.js';
import { securityRoutes } from './security-routes.js';
import { settingsRoutes } from './settings-routes.js';
import { userRoutes } from './user-routes.js';

export interface ApiServerOptions {
  /** Folder of the built console (index.html); null or missing: a page says how to build it. */
  readonly webRoot: string | null;
}

export async function buildApiServer(ctx: ApiContext, options: ApiServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: 32 * 1024 * 1024, // account CSV imports
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorateRequest('principal', null);
  await app.register(fastifyCookie);
  app.addContentTypeParser(['text/csv', 'text/plain'], { parseAs: 'string' }, (_req, body, done) => done(null, body));

  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'Rollcall management API', version: '1', description: 'See docs/api.md in the repository.' },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'rollcall_session' },
          token: { type: 'http', scheme: 'bearer' },
        },
      },
      security: [{ session: [] }, { token: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/api/docs' });

  const authDeps = { store: ctx.store, sessionTtl: () => ctx.config().http.sessionTtl, now: ctx.now };
  app.addHook('onRequest', async (req, reply) => {
    if (!authorize(req, reply, authDeps)) return reply;
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const where = err.validationContext ?? 'request';
      const msg = err.validation
        .map((v) => {
          const path = (v.instancePath || '').replace(/^\//, '').replace(/\//g, '.');
          return `${where}${path ? `.${path}` : ''}: ${v.message}`;
        })
        .join('; ');
      return reply.code(400).send({ error: msg });
    }
    const status = err.statusCode ?? 500;
    if (status >= 500) {
      ctx.log.error({ err, url: req.url }, 'API request failed');
      return reply.code(500).send({ error: 'internal error (see the server log)' });
    }
    return reply.code(status).send({ error: err.message });
  });

  await app.register(async (api) => {
    await sessionRoutes(api, ctx);
    await registrationRoutes(api, ctx);
    await historyRoutes(api, ctx);
    await accountRoutes(api, ctx);
    await settingsRoutes(api, ctx);
    await userRoutes(api, ctx);
    await auditRoutes(api, ctx);
    await securityRoutes(api, ctx);
  }, { prefix: '/api' });

  const webRoot = options.webRoot;
  if (webRoot !== null && existsSync(webRoot)) {
    await app.register(fastifyStatic, { root: webRoot, wildcard: false, index: ['index.html'] });
  }
  app.setNotFoundHandler((req, reply) => {
    if (req.url.startsWith('/api/') || req.url === '/api' || req.method !== 'GET') {
      return reply.code(404).send({ error: `no such API route: ${req.method} ${req.url.split('?')[0]}` });
    }
    // The console routes in the browser: every other page is its index.html.
    if (webRoot !== null && existsSync(`${webRoot}/index.html`)) return reply.type('text/html').sendFile('index.html');
    return reply
      .type('text/html')
      .send('<!doctype html><title>Rollcall</title><p>The web console is not built: run <code>npm run build</code>. The API is at <a href="/api/docs">/api/docs</a>.</p>');
  });
  return app;
}
