// Comparison of secrets (digest responses, nonce MACs) in time that does not depend on where
// they differ, so that timing tells an attacker nothing about how close a guess was.

/** Whether a[aAt, aAt+n) and b[bAt, bAt+n) hold the same characters; no early exit. */
export function sameCharsAt(a: string, aAt: number, b: string, bAt: number, n: number): boolean {
  let diff = 0;
  for (let i = 0; i < n; i++) diff |= a.charCodeAt(aAt + i) ^ b.charCodeAt(bAt + i);
  return diff === 0;
}
