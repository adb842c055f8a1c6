// What the parser returns instead of a message, and what a response copies from its request
// (RFC 3261 §8.2.6.2), so that even a request that failed to parse can be answered.

import type { SipRequest, Via } from './message.js';
import { getParam, headerValue } from './message.js';

export interface SipParseError {
  readonly kind: 'parse-error';
  /** Human readable, also used as the 400 reason phrase suffix. Never holds message bytes. */
  readonly reason: string;
  /** What to answer with (505 bad version, 513 too large). */
  readonly status: 400 | 505 | 513 | 416 | 420;
  /** Enough of a REQUEST to answer it (RFC 3261 §8.2.6): null when not even that could be read → drop silently. */
  readonly echo: ResponseEcho | null;
}

/** What a response copies from its request (§8.2.6.2). */
export interface ResponseEcho {
  readonly method: string;
  readonly via: readonly Via[];
  /** Raw value of From. */
  readonly from: string;
  /** Raw value of To. */
  readonly to: string;
  /** The To tag of the request; '' when `;tag` had no value; null when absent. */
  readonly toTag: string | null;
  readonly callId: string;
  /** Raw value of CSeq, e.g. "1 REGISTER". */
  readonly cseq: string;
}

export function parseError(reason: string, status: SipParseError['status'], echo: ResponseEcho | null): SipParseError {
  return { kind: 'parse-error', reason, status, echo };
}

export function isParseError(x: { readonly kind: string }): x is SipParseError {
  return x.kind === 'parse-error';
}

/** What a response to `req` copies; `via` replaces the request's own (a stamped copy). */
export function echoOf(req: SipRequest, via: readonly Via[] = req.via): ResponseEcho {
  const tag = getParam(req.to.params, 'tag');
  return {
    method: req.method,
    via,
    from: req.from.raw,
    to: req.to.raw,
    toTag: tag === undefined ? null : (tag ?? ''),
    callId: req.callId,
    cseq: headerValue(req, 'cseq') ?? `${req.cseq.seq} ${req.cseq.method}`,
  };
}
