// Header names: compact forms (RFC 3261 §7.3.3 and the extensions that registered one) to
// the lowercase long form the message model uses, and back to the conventional spelling
// for output (`Call-ID`, `CSeq`, `WWW-Authenticate`).

const COMPACT: Readonly<Record<string, string>> = {
  v: 'via',
  f: 'from',
  t: 'to',
  m: 'contact',
  i: 'call-id',
  l: 'content-length',
  k: 'supported',
  s: 'subject',
  c: 'content-type',
  e: 'content-encoding',
  o: 'event',
  u: 'allow-events',
  r: 'refer-to',
  b: 'referred-by',
  x: 'session-expires',
  a: 'accept-contact',
  j: 'reject-contact',
  d: 'request-disposition',
  y: 'identity',
  n: 'identity-info',
};

/** Long form of a compact header name (`v` → `via`); any other name is returned unchanged. */
export function expandCompactForm(lowerName: string): string {
  return lowerName.length === 1 ? (COMPACT[lowerName] ?? lowerName) : lowerName;
}

/** Any spelling of a header name (`VIA`, `v`, `Call-Id`) → lowercase long form (`via`, `call-id`). */
export function normalizeHeaderName(name: string): string {
  return expandCompactForm(name.toLowerCase());
}

const DISPLAY: ReadonlyMap<string, string> = new Map(
  [
    'Accept', 'Accept-Contact', 'Accept-Encoding', 'Accept-Language', 'Accept-Resource-Priority',
    'Alert-Info', 'Allow', 'Allow-Events', 'Answer-Mode', 'Authentication-Info', 'Authorization',
    'Call-ID', 'Call-Info', 'Contact', 'Content-Disposition', 'Content-Encoding',
    'Content-Language', 'Content-Length', 'Content-Type', 'CSeq', 'Date', 'Error-Info', 'Event',
    'Expires', 'Flow-Timer', 'From', 'History-Info', 'Identity', 'Identity-Info', 'In-Reply-To',
    'Join', 'Max-Breadth', 'Max-Forwards', 'MIME-Version', 'Min-Expires', 'Min-SE',
    'Organization', 'P-Access-Network-Info', 'P-Asserted-Identity', 'P-Associated-URI',
    'P-Called-Party-ID', 'P-Charging-Function-Addresses', 'P-Charging-Vector',
    'P-Preferred-Identity', 'P-Visited-Network-ID', 'Path', 'Priority', 'Privacy',
    'Proxy-Authenticate', 'Proxy-Authorization', 'Proxy-Require', 'RAck', 'Reason',
    'Record-Route', 'Refer-Sub', 'Refer-To', 'Referred-By', 'Reject-Contact', 'Replaces',
    'Reply-To', 'Request-Disposition', 'Require', 'Resource-Priority', 'Retry-After', 'Route',
    'RSeq', 'Security-Client', 'Security-Server', 'Security-Verify', 'Server', 'Service-Route',
    'Session-Expires', 'SIP-ETag', 'SIP-If-Match', 'Subject', 'Subscription-State', 'Supported',
    'Target-Dialog', 'Timestamp', 'To', 'Unsupported', 'User-Agent', 'Via', 'Warning',
    'WWW-Authenticate',
  ].map((n) => [n.toLowerCase(), n] as const),
);

/**
 * Conventional spelling of a header name for output: the registered spelling of a known
 * header, otherwise each dash-separated segment title-cased (`x-custom-thing` → `X-Custom-Thing`).
 */
export function displayHeaderName(name: string): string {
  const lower = normalizeHeaderName(name);
  const known = DISPLAY.get(lower);
  if (known !== undefined) return known;
  let out = '';
  let upper = true;
  for (let i = 0; i < lower.length; i++) {
    const ch = lower[i]!;
    out += upper ? ch.toUpperCase() : ch;
    upper = ch === '-';
  }
  return out;
}
