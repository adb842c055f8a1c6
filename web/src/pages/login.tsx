// The login page: POST /api/login; wrong password and lockout (429, retryAfter) are told
// apart so the operator knows whether to retype or to wait.

import { useEffect, useState } from 'preact/hooks';
import { ApiError, errorText, request } from '../api';
import { waitText } from '../format';
import type { Session } from '../types';

interface LoginProps {
  readonly onLogin: (s: Session) => void;
  readonly notice?: string;
}

export function LoginPage({ onLogin, notice }: LoginProps) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [lockedUntil, setLockedUntil] = useState<number | null>(null);
  const [now, setNow] = useState(Date.now);

  useEffect(() => {
    if (lockedUntil === null) return;
    const t = setInterval(() => {
      setNow(Date.now());
      if (Date.now() >= lockedUntil) setLockedUntil(null);
    }, 1000);
    return () => clearInterval(t);
  }, [lockedUntil]);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const s = await request<Session>('POST', '/login', { json: { username, password }, anonymous: true });
      onLogin(s);
    } catch (err) {
      setPassword('');
      if (err instanceof ApiError && err.status === 429) {
        const wait = err.retryAfter ?? 60;
        setLockedUntil(Date.now() + wait * 1000);
        setNow(Date.now());
        setError(null);
      } else if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
        setError('Wrong user name or password.');
      } else {
        setError(errorText(err));
      }
      setBusy(false);
    }
  };

  const left = lockedUntil === null ? 0 : Math.max(0, Math.ceil((lockedUntil - now) / 1000));
  return (
    <div class="login-screen">
      <form class="login-card" onSubmit={submit} data-testid="login-form" aria-labelledby="login-title">
        <div class="login-brand">
          <span class="brand-mark" aria-hidden="true">
            ◉
          </span>{' '}
          Rollcall
        </div>
        <h1 id="login-title">Sign in to the console</h1>
        {notice ? (
          <div class="alert alert-info" role="status">
            {notice}
          </div>
        ) : null}
        <label class="field">
          <span>User name</span>
          <input name="username" autoComplete="username" required autoFocus value={username} onInput={(e) => setUsername((e.target as HTMLInputElement).value)} data-testid="login-username" />
        </label>
        <label class="field">
          <span>Password</span>
          <input name="password" type="password" autoComplete="current-password" required value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} data-testid="login-password" />
        </label>
        {error ? (
          <div class="alert alert-error" role="alert" data-testid="login-error">
            {error}
          </div>
        ) : null}
        {lockedUntil !== null ? (
          <div class="alert alert-warn" role="alert" data-testid="login-locked">
            Too many failed logins. Logging in is blocked; try again in {waitText(left)}.
          </div>
        ) : null}
        <button type="submit" class="btn btn-primary btn-block" disabled={busy || lockedUntil !== null} data-testid="login-submit">
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </div>
  );
}
