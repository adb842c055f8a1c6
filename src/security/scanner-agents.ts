// User-Agents that SIP attack tools send by default (SPEC §7 scanner defence): a request
// carrying one is answered like a blocked source. Only tools made for scanning, enumerating
// extensions or cracking passwords are listed, never real phones, softphones or SDKs (which
// scanners sometimes imitate, but legitimate users run) nor test tools such as sipsak and
// SIPp; operators add more through the configuration.

/**
 * Matched case-insensitively anywhere in the User-Agent:
 * - friendly-scanner: SIPVicious (svmap, svwar, svcrack) by default; friendly-request: a
 *   variant of it; sipvicious: releases and forks that name themselves.
 * - sipcli/: the sipcli brute-forcer ("sipcli/v1.8", "sipcli/v2.2"); with the slash so that
 *   a phone called "...SipClient" does not match.
 * - VaxSIPUserAgent, VaxIPUserAgent: the VaxVoIP SDK's default, kept by the brute-force
 *   tools built on it (a product built on that SDK names itself).
 * - sundayddr: a scanner common in honeypot logs.
 * - iWar: the iWar war dialler.
 * - sip-scan, sipscan: SIPScan and look-alikes.
 * - pplsip, sipptk: SIPPTS (sipscan, sipexten, sipcrack), current and older releases.
 * - SIVuS: the SiVuS VoIP vulnerability scanner.
 * - siparmyknife: the SIP Army Knife fuzzer.
 */
export const DEFAULT_SCANNER_AGENTS: readonly string[] = Object.freeze([
  'friendly-scanner',
  'friendly-request',
  'sipvicious',
  'sipcli/',
  'VaxSIPUserAgent',
  'VaxIPUserAgent',
  'sundayddr',
  'iWar',
  'sip-scan',
  'sipscan',
  'pplsip',
  'sipptk',
  'SIVuS',
  'siparmyknife',
]);

/**
 * A test for "is this a scanner's User-Agent?" over the defaults and `extra` (configured
 * entries; blank ones are ignored, since an empty substring would match every phone).
 * Compiled once into a case-insensitive regular expression of escaped alternatives, which
 * tests a header without allocating; a missing User-Agent is not a scanner's.
 */
export function scannerAgentMatcher(extra: readonly string[]): (userAgent: string | null) => boolean {
  const needles = new Set<string>();
  for (const agent of [...DEFAULT_SCANNER_AGENTS, ...extra]) {
    const needle = agent.trim().toLowerCase();
    if (needle !== '') needles.add(needle);
  }
  const pattern = new RegExp([...needles].map(escapeRegExp).join('|'), 'i');
  return (userAgent) => userAgent !== null && pattern.test(userAgent);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}
