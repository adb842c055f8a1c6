// The details of one binding (GET /api/registrations/:id): every field, the raw last
// REGISTER and its 200 OK as they went over the wire, and the binding's history.

import { api, ApiError } from '../api';
import { ErrorBanner } from '../components/error-banner';
import { Modal } from '../components/modal';
import { useQuery } from '../components/use-query';
import { dateTime, duration, hostPort } from '../format';
import { useNow } from '../hooks';
import type { Registration, RegistrationDetails } from '../types';
import { EventTable } from './event-table';

interface DrawerProps {
  readonly id: number;
  readonly operator: boolean;
  readonly onClose: () => void;
  readonly onUnregister: (r: Registration) => void;
}

export function RegistrationDrawer({ id, operator, onClose, onUnregister }: DrawerProps) {
  const details = useQuery((signal) => api.get<RegistrationDetails>(`/registrations/${id}`, undefined, signal), [id]);
  const now = useNow(1000);
  const d = details.data;
  const gone = details.error instanceof ApiError && details.error.status === 404;
  const r = d?.registration;
  return (
    <Modal title={r ? `Binding of ${r.number}` : 'Binding details'} variant="drawer" onClose={onClose} testid="registration-drawer" wide>
      {gone ? (
        <div class="empty" data-testid="drawer-gone">
          This binding no longer exists: it was unregistered or expired.
        </div>
      ) : (
        <ErrorBanner error={details.error} />
      )}
      {!d && details.loading ? <div class="empty">Loading…</div> : null}
      {r && d ? (
        <>
          <div class="drawer-actions">
            <span class={`status status-${r.status}`}>{r.status}</span>
            <span class="muted">expires in {duration((r.expiresAt - now) / 1000)}</span>
            {operator ? (
              <button type="button" class="btn btn-small btn-danger" onClick={() => onUnregister(r)} data-testid="drawer-unregister">
                Force unregister…
              </button>
            ) : null}
          </div>
          <h3>Binding</h3>
          <dl class="fields" data-testid="drawer-fields">
            <Field label="AOR" value={r.aor} mono />
            <Field label="Number" value={r.number} mono />
            <Field label="Domain" value={r.domain} />
            <Field label="Customer" value={r.customer} />
            <Field label="Contact" value={r.contact} mono />
            <Field label="Contact address" value={hostPort(r.contactAddress, r.contactPort)} mono />
            <Field label="Source address" value={hostPort(r.sourceAddress, r.sourcePort)} mono />
            <Field label="Local address" value={hostPort(r.localAddress, r.localPort)} mono />
            <Field label="Transport" value={r.transport} />
            <Field label="NAT" value={r.nat ? 'yes' : 'no'} />
            <Field label="Received (requests go to)" value={r.received} mono />
            <Field
              label="Reachability"
              value={`${r.reachability}${r.rttMs !== null ? `, RTT ${r.rttMs} ms` : ''}${r.keepAliveMisses > 0 ? `, ${r.keepAliveMisses} keep-alive${r.keepAliveMisses === 1 ? '' : 's'} unanswered` : ''}`}
            />
            <Field label="Last seen" value={dateTime(r.lastSeenAt)} />
            <Field label="Outbound (RFC 5626)" value={r.outbound ? `yes${r.connectionId !== null ? `, connection #${r.connectionId}` : ''}` : 'no'} />
            <Field label="Expires" value={`${r.expires} s, at ${dateTime(r.expiresAt)}`} />
            <Field label="Registered at" value={dateTime(r.registeredAt)} />
            <Field label="Last refresh" value={dateTime(r.refreshedAt)} />
            <Field label="User agent" value={r.userAgent} />
            <Field label="Call-ID" value={r.callId} mono />
            <Field label="CSeq" value={String(r.cseq)} mono />
            <Field label="+sip.instance" value={r.instance} mono />
            <Field label="reg-id" value={r.regId === null ? null : String(r.regId)} mono />
            <Field label="q" value={r.q === null ? null : String(r.q)} mono />
            <Field label="Path" value={r.path.length ? r.path.join(', ') : null} mono />
            <Field label="Binding id" value={String(r.id)} mono />
          </dl>
          <h3>Last REGISTER</h3>
          <pre class="sip" data-testid="last-request">
            {d.lastRequest ?? 'Not kept for this binding.'}
          </pre>
          <h3>Response</h3>
          <pre class="sip" data-testid="last-response">
            {d.lastResponse ?? 'Not kept for this binding.'}
          </pre>
          <h3>History</h3>
          <EventTable events={d.history} compact testid="drawer-history" empty="No events recorded for this binding." />
        </>
      ) : null}
    </Modal>
  );
}

function Field({ label, value, mono }: { readonly label: string; readonly value: string | null | undefined; readonly mono?: boolean }) {
  return (
    <>
      <dt>{label}</dt>
      <dd class={mono ? 'mono' : undefined}>{value === null || value === undefined || value === '' ? <span class="muted">—</span> : value}</dd>
    </>
  );
}
