// Hash routes (#/registrations, #/accounts, ...): no server configuration needed, and the
// back button works.

import { useEffect, useState } from 'preact/hooks';

export const ROUTES = ['registrations', 'history', 'accounts', 'security', 'settings', 'users', 'audit'] as const;
export type Route = (typeof ROUTES)[number];

export function currentRoute(): Route {
  const name = location.hash.replace(/^#\/?/, '').split(/[/?]/)[0] ?? '';
  return (ROUTES as readonly string[]).includes(name) ? (name as Route) : 'registrations';
}

export const href = (r: Route): string => `#/${r}`;

export function useRoute(): Route {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const on = () => setRoute(currentRoute());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}
