// Registration events as a table: used by the History page and a binding's details.

import { dateTime, hostPort } from '../format';
import type { EventType, RegistrationEvent } from '../types';

const TONE: Record<EventType, string> = {
  registered: 'ok',
  refreshed: 'ok',
  expiring: 'warn',
  unregistered: 'neutral',
  expired: 'neutral',
  kicked: 'warn',
  rejected: 'bad',
  'auth-failed': 'bad',
  'force-removed': 'warn',
  blocked: 'bad',
  unblocked: 'neutral',
  unreachable: 'bad',
  reachable: 'ok',
  removed: 'warn',
};

interface EventTableProps {
  readonly events: readonly RegistrationEvent[];
  readonly compact?: boolean;
  readonly testid?: string;
  readonly empty: string;
}

export function EventTable({ events, compact, testid = 'events-table', empty }: EventTableProps) {
  return (
    <div class="table-wrap">
      <table class="grid" data-testid={testid}>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Event</th>
            {compact ? null : <th scope="col">AOR</th>}
            <th scope="col">Contact</th>
            <th scope="col">Source</th>
            <th scope="col">Transport</th>
            {compact ? null : <th scope="col">User agent</th>}
            <th scope="col">Reason</th>
          </tr>
        </thead>
        <tbody>
          {events.map((e) => (
            <tr key={e.id} data-testid="event-row">
              <td class="mono nowrap">{dateTime(e.time)}</td>
              <td>
                <span class={`event event-${TONE[e.type] ?? 'neutral'}`}>{e.type}</span>
              </td>
              {compact ? null : <td class="mono truncate" title={e.aor ?? ''}>{e.aor ?? '—'}</td>}
              <td class="mono truncate" title={e.contact ?? ''}>
                {e.contact ?? '—'}
              </td>
              <td class="mono nowrap">{hostPort(e.sourceAddress, e.sourcePort)}</td>
              <td>{e.transport ?? '—'}</td>
              {compact ? null : <td class="truncate ua" title={e.userAgent ?? ''}>{e.userAgent ?? '—'}</td>}
              <td>{e.reason ?? <span class="muted">—</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {events.length === 0 ? (
        <div class="empty" data-testid="empty-state">
          {empty}
        </div>
      ) : null}
    </div>
  );
}
