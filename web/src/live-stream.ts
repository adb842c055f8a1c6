// The one Server-Sent Events connection to GET /api/stream, shared by the whole console:
// `stats` every second for the header, `registration` for every recorded event.

import { useEffect, useRef, useState } from 'preact/hooks';

export type StreamState = 'connecting' | 'live' | 'down';
type Listener = (data: unknown) => void;

const listeners = new Map<string, Set<Listener>>();
const stateListeners = new Set<(s: StreamState) => void>();
let source: EventSource | null = null;
let state: StreamState = 'down';
let retryTimer: ReturnType<typeof setTimeout> | null = null;
// `overflow` (not in docs/api.md): the server dropped events for this slow client; whoever
// shows registrations must refresh as for a `registration`.
const EVENT_NAMES = ['stats', 'registration', 'overflow'] as const;

function setState(s: StreamState): void {
  state = s;
  for (const l of stateListeners) l(s);
}

function dispatch(name: string, raw: string): void {
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return;
  }
  for (const l of listeners.get(name) ?? []) l(data);
}

/** Opens the stream (after login); reopens it if the server closes it. */
export function openStream(): void {
  closeStream();
  setState('connecting');
  const es = new EventSource('/api/stream', { withCredentials: true });
  source = es;
  es.onopen = () => setState('live');
  for (const name of EVENT_NAMES) es.addEventListener(name, (ev) => dispatch(name, (ev as MessageEvent<string>).data));
  es.onerror = () => {
    if (source !== es) return;
    // The browser retries on its own unless the server refused the stream (e.g. 401/503).
    if (es.readyState === EventSource.CLOSED) {
      setState('down');
      source = null;
      retryTimer = setTimeout(openStream, 5000);
    } else {
      setState('connecting');
    }
  };
}

export function closeStream(): void {
  if (retryTimer) clearTimeout(retryTimer);
  retryTimer = null;
  source?.close();
  source = null;
  setState('down');
}

/** Calls `handler` for every event of that name while the component is mounted. */
export function useStreamEvent(name: (typeof EVENT_NAMES)[number], handler: Listener): void {
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => {
    const l: Listener = (d) => ref.current(d);
    let set = listeners.get(name);
    if (!set) listeners.set(name, (set = new Set()));
    set.add(l);
    return () => set.delete(l);
  }, [name]);
}

export function useStreamState(): StreamState {
  const [s, setS] = useState(state);
  useEffect(() => {
    stateListeners.add(setS);
    setS(state);
    return () => void stateListeners.delete(setS);
  }, []);
  return s;
}
