// The management API client: same-origin fetch with the session cookie, the CSRF token on
// every state-changing request, and API errors turned into ApiError with the server's message.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Seconds until a locked-out login may be tried again (429). */
    readonly retryAfter: number | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
type Query = Record<string, string | number | boolean | null | undefined>;

let csrfToken: string | null = null;
let onUnauthorized: (() => void) | null = null;

/** Kept in memory only: the cookie is HttpOnly, the token comes from /api/login or /api/session. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Called when a request made inside a session answers 401: the session has ended. */
export function setUnauthorizedHandler(handler: (() => void) | null): void {
  onUnauthorized = handler;
}

/** `/api/x?a=1&b=2`, leaving out empty values. */
export function apiUrl(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v === undefined || v === null || v === '') continue;
    params.set(k, String(v));
  }
  const qs = params.toString();
  return `/api${path}${qs ? `?${qs}` : ''}`;
}

export interface RequestOptions {
  readonly query?: Query;
  readonly json?: unknown;
  /** A raw body (e.g. CSV) with its content type. */
  readonly body?: { readonly type: string; readonly text: string };
  /** Do not treat 401 as an ended session (login, session probe). */
  readonly anonymous?: boolean;
  readonly signal?: AbortSignal;
}

export async function request<T>(method: Method, path: string, o: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  let body: string | undefined;
  if (o.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(o.json);
  } else if (o.body) {
    headers['Content-Type'] = o.body.type;
    body = o.body.text;
  }
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(apiUrl(path, o.query), { method, headers, body, credentials: 'same-origin', signal: o.signal });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'The server cannot be reached. Check that Rollcall is running.');
  }
  const text = await res.text();
  let data: unknown = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const msg = errorMessage(data) ?? `${res.status} ${res.statusText || 'error'}`;
    const retry = retryAfterOf(data, res);
    if (res.status === 401 && !o.anonymous) onUnauthorized?.();
    throw new ApiError(res.status, msg, retry);
  }
  return data as T;
}

function errorMessage(data: unknown): string | null {
  if (data && typeof data === 'object') {
    const e = (data as Record<string, unknown>)['error'];
    if (typeof e === 'string' && e) return e;
    const m = (data as Record<string, unknown>)['message'];
    if (typeof m === 'string' && m) return m;
  }
  return null;
}

function retryAfterOf(data: unknown, res: Response): number | null {
  if (data && typeof data === 'object') {
    const r = (data as Record<string, unknown>)['retryAfter'];
    if (typeof r === 'number' && Number.isFinite(r)) return r;
  }
  const h = res.headers.get('Retry-After');
  const n = h === null ? NaN : Number(h);
  return Number.isFinite(n) ? n : null;
}

export const api = {
  get: <T>(path: string, query?: Query, signal?: AbortSignal) => request<T>('GET', path, { query, signal }),
  post: <T>(path: string, json?: unknown) => request<T>('POST', path, { json: json ?? {} }),
  patch: <T>(path: string, json: unknown) => request<T>('PATCH', path, { json }),
  del: <T>(path: string, query?: Query) => request<T>('DELETE', path, { query }),
};

export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}
