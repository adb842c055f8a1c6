// The console's top: decides between the login page and the app from GET /api/session,
// keeps the CSRF token in memory, opens the live stream while logged in, and routes.

import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError, api, errorText, request, setCsrfToken, setUnauthorizedHandler } from './api';
import { Layout } from './components/layout';
import { closeStream, openStream } from './live-stream';
import { AccountsPage } from './pages/accounts';
import { AuditPage } from './pages/audit';
import { HistoryPage } from './pages/history';
import { LoginPage } from './pages/login';
import { RegistrationsPage } from './pages/registrations';
import { SecurityPage } from './pages/security';
import { SettingsPage } from './pages/settings';
import { UsersPage } from './pages/users';
import { useRoute, type Route } from './router';
import { isAdmin, type Session, type User } from './types';

type Phase = { kind: 'checking' } | { kind: 'anonymous'; notice?: string } | { kind: 'in'; user: User } | { kind: 'unreachable'; message: string };

export function App() {
  const [phase, setPhase] = useState<Phase>({ kind: 'checking' });

  const enter = useCallback((s: Session) => {
    setCsrfToken(s.csrfToken);
    setPhase({ kind: 'in', user: s.user });
  }, []);

  const leave = useCallback((notice?: string) => {
    setCsrfToken(null);
    closeStream();
    setPhase({ kind: 'anonymous', notice });
  }, []);

  const check = useCallback(() => {
    setPhase({ kind: 'checking' });
    request<Session>('GET', '/session', { anonymous: true }).then(enter, (e: unknown) => {
      if (e instanceof ApiError && e.status === 401) leave();
      else setPhase({ kind: 'unreachable', message: errorText(e) });
    });
  }, [enter, leave]);

  useEffect(() => {
    setUnauthorizedHandler(() => leave('Your session has ended. Please log in again.'));
    check();
    return () => setUnauthorizedHandler(null);
  }, [check, leave]);

  const loggedIn = phase.kind === 'in';
  useEffect(() => {
    if (!loggedIn) return;
    openStream();
    return closeStream;
  }, [loggedIn]);

  const logout = async () => {
    try {
      await api.post('/logout');
    } catch {
      // The session is gone either way; the login page is the right place to be.
    }
    leave();
  };

  switch (phase.kind) {
    case 'checking':
      return (
        <div class="splash" data-testid="splash">
          Loading…
        </div>
      );
    case 'unreachable':
      return (
        <div class="splash">
          <div class="alert alert-error" role="alert" data-testid="error">
            {phase.message}
          </div>
          <button type="button" class="btn btn-primary" onClick={check}>
            Try again
          </button>
        </div>
      );
    case 'anonymous':
      return <LoginPage onLogin={enter} notice={phase.notice} />;
    case 'in':
      return <LoggedIn user={phase.user} onLogout={logout} />;
  }
}

function LoggedIn({ user, onLogout }: { readonly user: User; readonly onLogout: () => void }) {
  const route = useRoute();
  const allowed: Route = !isAdmin(user) && (route === 'users' || route === 'audit') ? 'registrations' : route;
  return (
    <Layout user={user} route={allowed} onLogout={onLogout}>
      {page(allowed, user)}
    </Layout>
  );
}

function page(route: Route, user: User) {
  switch (route) {
    case 'registrations':
      return <RegistrationsPage user={user} />;
    case 'history':
      return <HistoryPage />;
    case 'accounts':
      return <AccountsPage user={user} />;
    case 'security':
      return <SecurityPage user={user} />;
    case 'settings':
      return <SettingsPage user={user} />;
    case 'users':
      return <UsersPage user={user} />;
    case 'audit':
      return <AuditPage />;
  }
}
