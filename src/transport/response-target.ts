// Where a response goes (RFC 3261 §18.2.2 with RFC 3581 symmetric response routing).
// Pure: a function of the top Via (after received/rport were added) and the flow.

import { getParam, type Via } from '../sip/message.js';
import type { Flow } from './transport.js';

export interface ResponseTarget {
  readonly address: string;
  readonly port: number;
}

/**
 * On a stream transport the caller first tries the request's own connection; this gives
 * the address to connect to when that connection has gone. On UDP it is where to send.
 */
export function responseTarget(topVia: Via, flow: Flow): ResponseTarget {
  const received = getParam(topVia.params, 'received');
  const address = received ?? flow.remoteAddress;
  const rport = getParam(topVia.params, 'rport');
  if (rport) {
    const port = Number(rport);
    if (port > 0 && port < 65536) return { address, port };
  }
  // Without rport, §18.2.2: the received address at the sent-by port (default 5060).
  return { address, port: topVia.port ?? (topVia.transport === 'TLS' ? 5061 : 5060) };
}
