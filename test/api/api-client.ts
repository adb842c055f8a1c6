// A small HTTP client for API tests: a logged-in session (cookie + CSRF token, as the
// console uses it) or a Bearer token (as scripts do), over Node's fetch.

import { expect } from 'vitest';

interface RawOptions {
  /** false: leave the CSRF header out (to test the check). */
  readonly csrf?: boolean;
  /** Send this instead of the session's token. */
  readonly csrfValue?: string;
  /** Content type of a string body. */
  readonly type?: string;
  readonly signal?: AbortSignal;
}

export class ApiClient {
  private constructor(
    readonly base: string,
    private readonly cookie: string | null,
    readonly csrfToken: string | null,
    private readonly token: string | null,
  ) {}

  static withSession(base: string, cookie: string, csrfToken: string): ApiClient {
    return new ApiClient(base, cookie, csrfToken, null);
  }

  static withToken(base: string, token: string): ApiClient {
    return new ApiClient(base, null, null, token);
  }

  raw(method: string, path: string, body?: unknown, o: RawOptions = {}): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.cookie !== null) headers['cookie'] = this.cookie;
    if (this.token !== null) headers['authorization'] = `Bearer ${this.token}`;
    if (this.cookie !== null && o.csrf !== false && method !== 'GET') headers['x-csrf-token'] = o.csrfValue ?? this.csrfToken ?? '';
    let payload: string | undefined;
    if (body !== undefined) {
      headers['content-type'] = typeof body === 'string' ? (o.type ?? 'text/plain') : 'application/json';
      payload = typeof body === 'string' ? body : JSON.stringify(body);
    }
    return fetch(this.base + path, { method, headers, body: payload, signal: o.signal });
  }

  get(path: string, signal?: AbortSignal): Promise<Response> {
    return this.raw('GET', path, undefined, signal ? { signal } : {});
  }

  /** A request that must answer `status` (200 by default); its JSON body. */
  async json<T = unknown>(method: string, path: string, body?: unknown, status = 200, o: RawOptions = {}): Promise<T> {
    const r = await this.raw(method, path, body, o);
    const text = await r.text();
    expect(r.status, `${method} ${path}: ${text}`).toBe(status);
    return (text ? JSON.parse(text) : null) as T;
  }
}

/** Logs in through POST /api/login and keeps the session cookie and CSRF token. */
export async function login(base: string, username: string, password: string): Promise<ApiClient> {
  const r = await fetch(`${base}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  const text = await r.text();
  expect(r.status, `login ${username}: ${text}`).toBe(200);
  const cookie = (r.headers.get('set-cookie') ?? '').split(';')[0]!;
  const { csrfToken } = JSON.parse(text) as { csrfToken: string };
  return ApiClient.withSession(base, cookie, csrfToken);
}
