// System parameters: a form generated from the config schema's run-time keys (GET
// /api/settings), saving only the changed keys; the server checks them and says what is wrong.

import { useMemo, useState } from 'preact/hooks';
import { api } from '../api';
import { ErrorBanner, Notice } from '../components/error-banner';
import { useQuery } from '../components/use-query';
import { isAdmin, type SettingKey, type Settings, type SettingValue, type User } from '../types';

type Draft = Record<string, string | boolean>;

function asDraft(k: SettingKey, v: SettingValue | undefined): string | boolean {
  if (k.type === 'boolean') return v === true;
  if (v === undefined || v === null) return '';
  if (Array.isArray(v)) return v.join(', ');
  return String(v);
}

function parse(k: SettingKey, d: string | boolean): SettingValue {
  if (k.type === 'boolean') return d === true;
  if (k.type === 'list') {
    return String(d)
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x !== '');
  }
  if (k.type === 'number' || k.type === 'integer') {
    const n = Number(d);
    return String(d).trim() === '' || !Number.isFinite(n) ? String(d) : n;
  }
  return String(d);
}

export function SettingsPage({ user }: { readonly user: User }) {
  const settings = useQuery((signal) => api.get<Settings>('/settings', undefined, signal), []);
  const [draft, setDraft] = useState<Draft>({});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const admin = isAdmin(user);
  const data = settings.data;

  const groups = useMemo(() => {
    const g = new Map<string, SettingKey[]>();
    for (const k of data?.keys ?? []) {
      const section = k.key.split('.')[0] ?? '';
      if (!g.has(section)) g.set(section, []);
      g.get(section)!.push(k);
    }
    return [...g.entries()];
  }, [data]);

  const value = (k: SettingKey) => (k.key in draft ? draft[k.key]! : asDraft(k, data?.values[k.key]));
  const changed = (data?.keys ?? []).filter((k) => k.key in draft && draft[k.key] !== asDraft(k, data?.values[k.key]));
  const set = (key: string, v: string | boolean) => setDraft((d) => ({ ...d, [key]: v }));

  const save = async (e: Event) => {
    e.preventDefault();
    if (changed.length === 0) return;
    setBusy(true);
    setError(null);
    setNotice(null);
    const body: Record<string, SettingValue> = {};
    for (const k of changed) body[k.key] = parse(k, draft[k.key]!);
    try {
      await api.patch('/settings', body);
      setNotice(`Saved ${changed.map((k) => k.key).join(', ')}. In effect now.`);
      setDraft({});
      settings.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="page" aria-labelledby="page-title">
      <div class="page-head">
        <h1 id="page-title">System parameters</h1>
        <div class="page-actions">{admin ? null : <span class="muted">Only administrators can change parameters.</span>}</div>
      </div>
      <ErrorBanner error={settings.error} />
      {!data && settings.loading ? <div class="empty">Loading parameters…</div> : null}
      {data ? (
        <form class="settings" onSubmit={save} data-testid="settings-form">
          {groups.map(([section, keys]) => (
            <fieldset class="settings-group">
              <legend>{section}</legend>
              {keys.map((k) => (
                <SettingField setting={k} value={value(k)} dirty={changed.includes(k)} disabled={!admin} onChange={(v) => set(k.key, v)} />
              ))}
            </fieldset>
          ))}
          {admin ? (
            <div class="settings-bar">
              <div class="settings-messages">
                <ErrorBanner error={error} testid="settings-error" />
                {notice ? <Notice testid="notice">{notice}</Notice> : null}
              </div>
              <button type="button" class="btn" disabled={changed.length === 0 || busy} onClick={() => (setDraft({}), setError(null))}>
                Discard changes
              </button>
              <button type="submit" class="btn btn-primary" disabled={changed.length === 0 || busy} data-testid="settings-save">
                {busy ? 'Saving…' : changed.length ? `Save ${changed.length} change${changed.length === 1 ? '' : 's'}` : 'Save'}
              </button>
            </div>
          ) : null}
        </form>
      ) : null}
    </section>
  );
}

interface FieldProps {
  readonly setting: SettingKey;
  readonly value: string | boolean;
  readonly dirty: boolean;
  readonly disabled: boolean;
  readonly onChange: (v: string | boolean) => void;
}

function SettingField({ setting: k, value, dirty, disabled, onChange }: FieldProps) {
  const id = `setting-${k.key}`;
  const helpId = `${id}-help`;
  const numeric = k.type === 'number' || k.type === 'integer';
  const range = !numeric
    ? ''
    : k.min !== undefined && k.max !== undefined
      ? ` Allowed: ${k.min} to ${k.max}.`
      : k.min !== undefined
        ? ` At least ${k.min}.`
        : k.max !== undefined
          ? ` At most ${k.max}.`
          : '';
  const allowed = k.type === 'list' && k.enum ? ` Comma-separated, in order; allowed: ${k.enum.join(', ')}.` : '';
  const def = k.default === undefined ? '' : ` Default: ${typeof k.default === 'boolean' ? (k.default ? 'on' : 'off') : Array.isArray(k.default) ? k.default.join(', ') : String(k.default)}.`;
  let input;
  switch (k.type) {
    case 'boolean':
      input = <input id={id} type="checkbox" checked={value === true} disabled={disabled} aria-describedby={helpId} onChange={(e) => onChange((e.target as HTMLInputElement).checked)} data-testid={id} />;
      break;
    case 'enum':
      input = (
        <select id={id} value={String(value)} disabled={disabled} aria-describedby={helpId} onChange={(e) => onChange((e.target as HTMLSelectElement).value)} data-testid={id}>
          {(k.enum ?? []).map((o) => (
            <option value={o}>{o}</option>
          ))}
        </select>
      );
      break;
    case 'number':
    case 'integer':
      input = <input id={id} type="number" value={String(value)} min={k.min} max={k.max} step={k.type === 'integer' ? '1' : 'any'} disabled={disabled} aria-describedby={helpId} onInput={(e) => onChange((e.target as HTMLInputElement).value)} data-testid={id} />;
      break;
    default:
      input = <input id={id} value={String(value)} disabled={disabled} aria-describedby={helpId} onInput={(e) => onChange((e.target as HTMLInputElement).value)} data-testid={id} />;
  }
  return (
    <div class={`setting${dirty ? ' setting-dirty' : ''}`}>
      <label for={id} class="setting-key mono">
        {k.key}
        {dirty ? <span class="dirty-mark" title="changed, not saved yet"> •</span> : null}
      </label>
      <div class="setting-input">{input}</div>
      <p id={helpId} class="help setting-help">
        {k.description}
        {range}
        {allowed}
        {def}
      </p>
    </div>
  );
}
