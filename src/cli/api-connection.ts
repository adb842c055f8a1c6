// The CLI's way to the running server's management API (docs/api.md): its address from
// --url or ROLLCALL_URL (default http://127.0.0.1:8080) and a token from --token or
// ROLLCALL_TOKEN (`rollcall users token NAME` prints one). Commands that can also work on
// the data directory use the API only when a token is given.

import { UsageError } from './usage-error.js';

export interface ApiOptions {
  readonly url?: string;
  readonly token?: string;
}

export interface ApiConnection {
  readonly url: string;
  readonly token: string;
}

export const DEFAULT_API_URL = 'http://127.0.0.1:8080';

/** The API to use, or null when no token was given (the command then works locally). */
export function apiConnection(o: ApiOptions): ApiConnection | null {
  const token = o.token ?? process.env['ROLLCALL_TOKEN'];
  if (token === undefined || token === '') return null;
  const url = (o.url ?? process.env['ROLLCALL_URL'] ?? DEFAULT_API_URL).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+$/.test(url)) throw new UsageError(`--url ${url}: expected the server's address such as http://127.0.0.1:8080`);
  return { url, token };
}

export function requireApi(o: ApiOptions, what: string): ApiConnection {
  const c = apiConnection(o);
  if (c === null) {
    throw new UsageError(`${what} goes through the server's API: give --token TOKEN (or set ROLLCALL_TOKEN; \`rollcall users token NAME\` prints one) and --url if it is not ${DEFAULT_API_URL}`);
  }
  return c;
}

/** Sends a request; the response, or an Error with the API's message. */
export async function apiFetch(c: ApiConnection, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(c.url + path, {
      method,
      headers: {
        authorization: `Bearer ${c.token}`,
        ...(body !== undefined ? { 'content-type': contentType } : {}),
      },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
  } catch (err) {
    throw new Error(`cannot reach the Rollcall API at ${c.url} (${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}); is \`rollcall serve\` running with --http there?`, { cause: err });
  }
  if (!res.ok) {
    const text = await res.text();
    let message = text;
    try {
      message = (JSON.parse(text) as { error?: string }).error ?? text;
    } catch {
      // not JSON
    }
    if (res.status === 401) message += ' (is the token right? `rollcall users token NAME` makes a new one)';
    throw new (res.status < 500 && res.status !== 401 && res.status !== 403 ? UsageError : Error)(`${method} ${path}: ${res.status} ${message}`);
  }
  return res;
}

export async function apiJson<T>(c: ApiConnection, method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
  const res = await apiFetch(c, method, path, body, contentType);
  const text = await res.text();
  return (text ? JSON.parse(text) : null) as T;
}

/** `?a=1&b=x` from the options that are set. */
export function queryString(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
