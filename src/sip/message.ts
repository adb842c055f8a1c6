// The SIP message model (RFC 3261 §7, §20, §25): what the parser produces and what every
// layer above works on. Pure types and tiny accessors; no I/O.

/**
 * Generic parameters (`;name=value` on URIs, Via, name-addr headers; `name=value` pairs of
 * auth headers). Names are lowercased (they are case-insensitive); values are kept as they
 * appeared, with surrounding quotes removed only where the grammar says they are quotes
 * (quoted-string values keep their quotes here, so a round trip is exact; use
 * `unquote()` to read them). `null` means the parameter is present without a value.
 */
export type Params = ReadonlyArray<readonly [name: string, value: string | null]>;

/** The parameters of everything that has none (most URIs, To without a tag): one shared array. */
export const NO_PARAMS: Params = Object.freeze([]);

/** Value of a parameter: `undefined` when absent, `null` when present without a value. */
export function getParam(params: Params, name: string): string | null | undefined {
  for (let i = 0; i < params.length; i++) {
    const p = params[i]!;
    if (p[0] === name) return p[1];
  }
  return undefined;
}

export function hasParam(params: Params, name: string): boolean {
  return getParam(params, name) !== undefined;
}

export interface SipUri {
  readonly scheme: 'sip' | 'sips';
  /** User part with %HH escapes decoded (RFC 3261 §19.1.4: escaped and unescaped compare equal). */
  readonly user: string | null;
  readonly password: string | null;
  /** Host lowercased; IPv6 references without their brackets. */
  readonly host: string;
  readonly hostType: 'domain' | 'ipv4' | 'ipv6';
  readonly port: number | null;
  readonly params: Params;
  /** `?name=value&...` URI headers, names as written (case-insensitive), values still escaped. */
  readonly headers: ReadonlyArray<readonly [name: string, value: string]>;
}

export interface TelUri {
  readonly scheme: 'tel';
  /** The telephone-subscriber part up to the first `;`, as written. */
  readonly number: string;
  readonly params: Params;
}

/** Any other absoluteURI (RFC 3261 §25.1 allows them in Request-URI, To, From, Contact). */
export interface OpaqueUri {
  readonly scheme: string;
  /** Everything after `scheme:`. */
  readonly rest: string;
}

export type Uri = SipUri | TelUri | OpaqueUri;

export function isSipUri(uri: Uri): uri is SipUri {
  return uri.scheme === 'sip' || uri.scheme === 'sips';
}

/** name-addr or addr-spec with its header parameters (To, From, Contact, Route, Path...). */
export interface NameAddr {
  /** Display name: unquoted and unescaped when it was a quoted-string; null when absent. */
  readonly displayName: string | null;
  readonly uri: Uri;
  /** The URI exactly as written (without `<>`), used to echo it back. */
  readonly uriText: string;
  /** Header parameters after the URI (tag, expires, q, +sip.instance, reg-id, ...). */
  readonly params: Params;
  /** The whole value as written in the message (one element of a comma list). */
  readonly raw: string;
}

export interface Via {
  /** e.g. `SIP/2.0`. */
  readonly protocol: string;
  /** Uppercased transport token: UDP, TCP, TLS, SCTP, WS, WSS, or any other token. */
  readonly transport: string;
  /** sent-by host, lowercased; IPv6 without brackets. */
  readonly host: string;
  readonly hostType: 'domain' | 'ipv4' | 'ipv6';
  readonly port: number | null;
  readonly params: Params;
  /** The via-parm as written (one element of a comma list). */
  readonly raw: string;
}

export interface CSeq {
  readonly seq: number;
  readonly method: string;
}

/** A credentials or challenge value: `Digest a=b, c="d"`. Param values are unquoted. */
export interface AuthValue {
  /** Scheme as written, e.g. `Digest`. */
  readonly scheme: string;
  /** Parameter names lowercased; quoted-string values unquoted and unescaped. */
  readonly params: ReadonlyMap<string, string>;
  readonly raw: string;
}

export interface HeaderField {
  /** Lowercase long form (compact forms expanded): `via`, `call-id`, `x-custom`. */
  readonly name: string;
  /** Value as written, with folding (CRLF + WSP) replaced by a single space and trimmed. */
  readonly value: string;
}

/** What every message has once parsed. */
interface SipMessageBase {
  /** Every header line in order (one entry per line, even when a line holds a comma list). */
  readonly headers: readonly HeaderField[];
  readonly via: readonly Via[];
  readonly from: NameAddr;
  readonly to: NameAddr;
  readonly callId: string;
  readonly cseq: CSeq;
  /** Content-Length as declared (on datagrams, when absent: the bytes that followed). */
  readonly contentLength: number;
  readonly body: Buffer;
  /** The message's own bytes (exactly one message, never a larger read buffer). */
  readonly raw: Buffer;
}

export interface SipRequest extends SipMessageBase {
  readonly kind: 'request';
  /** Method as written (case-sensitive, RFC 3261 §7.1). */
  readonly method: string;
  readonly uri: Uri;
  readonly uriText: string;
  readonly maxForwards: number | null;
  /** `*` when the single Contact is the wildcard; otherwise every contact value, in order. */
  readonly contact: readonly NameAddr[] | '*';
  /** Expires header value (delta-seconds), null when absent. */
  readonly expires: number | null;
  /** Option tags of Require, Proxy-Require and Supported (each lowercased). */
  readonly require: readonly string[];
  readonly proxyRequire: readonly string[];
  readonly supported: readonly string[];
  /** Authorization header values (there may be several, one per realm). */
  readonly authorization: readonly AuthValue[];
  readonly path: readonly NameAddr[];
  readonly userAgent: string | null;
}

export interface SipResponse extends SipMessageBase {
  readonly kind: 'response';
  readonly status: number;
  readonly reason: string;
  readonly contact: readonly NameAddr[] | '*';
  readonly expires: number | null;
  readonly wwwAuthenticate: readonly AuthValue[];
  readonly proxyAuthenticate: readonly AuthValue[];
}

export type SipMessage = SipRequest | SipResponse;

/** First header value with this (lowercase long-form) name, or null. */
export function headerValue(msg: { readonly headers: readonly HeaderField[] }, name: string): string | null {
  const hs = msg.headers;
  for (let i = 0; i < hs.length; i++) {
    if (hs[i]!.name === name) return hs[i]!.value;
  }
  return null;
}

/** Every header value with this name, in order. */
export function headerValues(msg: { readonly headers: readonly HeaderField[] }, name: string): string[] {
  const out: string[] = [];
  for (const h of msg.headers) if (h.name === name) out.push(h.value);
  return out;
}

/**
 * The text of a parameter value that may be a quoted-string: surrounding quotes removed and
 * quoted-pairs (`\x`) resolved; a token value is returned unchanged.
 */
export function unquote(value: string): string {
  const n = value.length;
  if (n < 2 || value.charCodeAt(0) !== 34 || value.charCodeAt(n - 1) !== 34) return value;
  if (value.indexOf('\\') === -1) return value.slice(1, n - 1);
  let out = '';
  let from = 1;
  for (let i = 1; i < n - 1; i++) {
    if (value.charCodeAt(i) === 92) {
      out += value.slice(from, i);
      from = i + 1;
      i++;
    }
  }
  return out + value.slice(from, n - 1);
}
