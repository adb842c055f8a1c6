// How times, durations and addresses are written in the console.

const pad = (n: number) => String(n).padStart(2, '0');

/** 2026-11-21 22:10:05, local time: what an operator compares with a wall clock. */
export function dateTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** 59:58, 1:02:03 or 2d 03:04:05 */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d > 0) return `${d}d ${pad(h)}:${pad(m)}:${pad(sec)}`;
  if (h > 0) return `${h}:${pad(m)}:${pad(sec)}`;
  return `${m}:${pad(sec)}`;
}

export function hostPort(address: string | null | undefined, port: number | null | undefined): string {
  if (!address) return '—';
  const host = address.includes(':') ? `[${address}]` : address;
  return port ? `${host}:${port}` : host;
}

/** A datetime-local input's value as epoch milliseconds (local time), or undefined. */
export function fromLocalInput(value: string): number | undefined {
  if (!value) return undefined;
  const t = new Date(value).getTime();
  return Number.isFinite(t) ? t : undefined;
}

export function rate(perSecond: number): string {
  // The server gives tenths.
  return perSecond >= 100 ? perSecond.toFixed(0) : perSecond.toFixed(1);
}

export function json(v: unknown): string {
  if (v === undefined) return '';
  return JSON.stringify(v, null, 2);
}

/** 22:10:05 for today, 11-21 22:10 for other days (the full time goes in a tooltip). */
export function shortTime(ms: number | null | undefined, now = Date.now()): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const d = new Date(ms);
  const today = new Date(now);
  if (d.toDateString() === today.toDateString()) return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** "45 s", "4 min 5 s": how long to wait. */
export function waitText(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
}
