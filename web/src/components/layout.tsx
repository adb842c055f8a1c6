// The frame around every page: a top bar (product, live counters, who is logged in) and a
// dark navigation sidebar showing only what the user's role may open.

import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { rate } from '../format';
import { useStreamEvent, useStreamState } from '../live-stream';
import { href, type Route } from '../router';
import { isAdmin, type Stats, type User } from '../types';

interface LayoutProps {
  readonly user: User;
  readonly route: Route;
  readonly onLogout: () => void;
  readonly children: ComponentChildren;
}

const NAV: ReadonlyArray<{ route: Route; label: string; admin?: boolean }> = [
  { route: 'registrations', label: 'Registrations' },
  { route: 'history', label: 'History' },
  { route: 'accounts', label: 'Accounts' },
  { route: 'security', label: 'Security' },
  { route: 'settings', label: 'System parameters' },
  { route: 'users', label: 'Users', admin: true },
  { route: 'audit', label: 'Audit log', admin: true },
];

export function Layout({ user, route, onLogout, children }: LayoutProps) {
  return (
    <div class="shell">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar" data-testid="topbar">
        <div class="brand">
          <span class="brand-mark" aria-hidden="true">
            ◉
          </span>
          Rollcall
        </div>
        <StatsBar />
        <div class="whoami">
          <span data-testid="whoami">
            <span class="whoami-name">{user.name}</span> <span class={`role role-${user.role}`}>{user.role}</span>
          </span>
          <button type="button" class="btn btn-ghost btn-small" onClick={onLogout} data-testid="logout">
            Log out
          </button>
        </div>
      </header>
      <nav class="sidebar" aria-label="Sections" data-testid="nav">
        <ul>
          {NAV.filter((n) => !n.admin || isAdmin(user)).map((n) => (
            <li>
              <a href={href(n.route)} class={n.route === route ? 'active' : undefined} aria-current={n.route === route ? 'page' : undefined} data-testid={`nav-${n.route}`}>
                {n.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" class="content" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}

/** One figure of the header; a dash until the first stats arrive. */
function Stat({ label, title, testId, value, warn = false }: { label: string; title: string; testId: string; value: string | null; warn?: boolean }) {
  return (
    <span class="stat" title={title}>
      <span class="stat-label">{label}</span>
      <span class={`stat-value ${warn ? 'stat-warn' : ''}`} data-testid={testId}>
        {value ?? '—'}
      </span>
    </span>
  );
}

function StatsBar() {
  const [stats, setStats] = useState<Stats | null>(null);
  const stream = useStreamState();
  useEffect(() => {
    const ctl = new AbortController();
    api.get<Stats>('/stats', undefined, ctl.signal).then(setStats, () => undefined);
    return () => ctl.abort();
  }, []);
  useStreamEvent('stats', (d) => setStats(d as Stats));
  return (
    <div class="stats" aria-live="off">
      <Stat label="Registered" title="Current bindings" testId="stat-registered" value={stats && stats.registered.toLocaleString()} />
      <Stat label="Expiring" title="Bindings close to expiry" testId="stat-expiring" value={stats && stats.expiring.toLocaleString()} warn={stats !== null && stats.expiring > 0} />
      <Stat label="AORs" title="Address-of-records with at least one binding" testId="stat-aors" value={stats && stats.aors.toLocaleString()} />
      <Stat
        label="Unreachable"
        title="Bindings whose endpoint stopped answering the keep-alive, or whose connection closed"
        testId="stat-unreachable"
        value={stats && stats.unreachable.toLocaleString()}
        warn={stats !== null && stats.unreachable > 0}
      />
      <Stat label="Rate" title="Accepted REGISTERs per second over the last 10 s" testId="stat-rate" value={stats && `${rate(stats.ratePerSecond)}/s`} />
      <span class={`live live-${stream}`} data-testid="live-state" title={stream === 'live' ? 'Live updates are on' : 'Live updates are reconnecting'}>
        <span class="live-dot" aria-hidden="true" />
        {stream === 'live' ? 'Live' : stream === 'connecting' ? 'Connecting' : 'Offline'}
      </span>
    </div>
  );
}
