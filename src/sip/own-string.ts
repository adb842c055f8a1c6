// Strings parsed from a packet are views into the packet's text: V8 keeps substrings as
// slices of their parent and concatenations as trees of their parts. Anything kept for
// longer than the request (a binding, a transaction key) must own its characters, or it
// keeps the whole packet alive with it.

/**
 * A flat copy of `s`. Prepending a character makes a new string tree; slicing it off
 * flattens that tree into a fresh string that shares nothing with the packet.
 */
export function ownString(s: string): string {
  return (' ' + s).slice(1);
}
