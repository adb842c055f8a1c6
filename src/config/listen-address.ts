// `udp:127.0.0.1:5060`, `tcp:[::1]:5060`, `tls:0.0.0.0:5061`, `ws:0.0.0.0:8088`: the one
// way a listening socket is written, in the config file and on the command line.

import { isIP } from 'node:net';

export type ListenTransport = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';
export const LISTEN_TRANSPORTS: readonly ListenTransport[] = ['udp', 'tcp', 'tls', 'ws', 'wss'];

/** Transports that need a certificate and key (sip.tls.cert, sip.tls.key). */
export function isSecureTransport(t: ListenTransport): boolean {
  return t === 'tls' || t === 'wss';
}

export interface ListenAddress {
  readonly transport: ListenTransport;
  /** Numeric address to bind (IPv4 or IPv6 without brackets). */
  readonly host: string;
  readonly port: number;
}

/** Parses `transport:host:port`; returns an error message saying what is wrong instead. */
export function parseListenAddress(text: string): ListenAddress | string {
  const m = /^([a-z]+):(\[[^\]]+\]|[^:[\]]+):(\d{1,5})$/i.exec(text.trim());
  if (!m) return `"${text}" is not transport:host:port (e.g. udp:0.0.0.0:5060, tcp:[::1]:5060, tls:0.0.0.0:5061 or ws:0.0.0.0:8088)`;
  const transport = m[1]!.toLowerCase();
  if (!(LISTEN_TRANSPORTS as readonly string[]).includes(transport)) {
    return `"${text}": transport "${transport}" is not one of ${LISTEN_TRANSPORTS.join(', ')}`;
  }
  const host = m[2]!.startsWith('[') ? m[2]!.slice(1, -1) : m[2]!;
  if (isIP(host) === 0) return `"${text}": host "${host}" must be a numeric IPv4 or IPv6 address`;
  const port = Number(m[3]);
  // Port 0 asks the system for a free port (tests, benchmarks); the log says which.
  if (port > 65535) return `"${text}": port ${port} is not in 0..65535`;
  return { transport: transport as ListenTransport, host, port };
}

export function formatListenAddress(a: ListenAddress): string {
  return `${a.transport}:${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
}
