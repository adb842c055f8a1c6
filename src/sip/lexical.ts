// The basic rules of RFC 3261 §25.1 as character classes and scanners over a string range
// (`s`, index, end). Scanners return an index instead of a substring, so the parsers on the
// hot path walk the header section in place and slice only the values they keep.

export const TOKEN = 1;
export const UNRESERVED = 2;
/** `user` of a SIP URI (without `%`, which is checked as an escape). */
export const USER = 4;
export const PASSWORD = 8;
/** `paramchar` of URI parameters (and RFC 3966 tel parameters). */
export const PARAM = 16;
/** `hname` / `hvalue` characters of URI headers. */
export const URI_HEADER = 32;
/** Host names (alphanum, `-`, `.`, and `_` which real DNS names carry). */
export const HOST = 64;
/** Characters of an opaque absoluteURI after the scheme (reserved / unreserved / `[]#`). */
export const URIC = 128;

/** Class bits per ASCII code; index with `c < 128 ? CLASS[c] : 0`. */
export const CLASS = new Uint8Array(128);

function mark(chars: string, bits: number): void {
  for (let i = 0; i < chars.length; i++) CLASS[chars.charCodeAt(i)]! |= bits;
}

const ALPHANUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
mark(ALPHANUM, TOKEN | UNRESERVED | USER | PASSWORD | PARAM | URI_HEADER | HOST | URIC);
mark("-_.!~*'()", UNRESERVED | USER | PASSWORD | PARAM | URI_HEADER | URIC);
mark("-.!%*_+`'~", TOKEN);
mark('&=+$,;?/', USER);
mark('&=+$,', PASSWORD);
mark('[]/:&+$', PARAM);
mark('[]/?:+$', URI_HEADER);
mark('-._', HOST);
mark(';/?:@&=+$,[]#%', URIC);

export const SP = 32;
export const HT = 9;
export const CR = 13;
export const LF = 10;
export const DQUOTE = 34;
export const BACKSLASH = 92;
export const SEMI = 59;
export const COMMA = 44;
export const COLON = 58;
export const EQUAL = 61;
export const LAQUOT = 60;
export const RAQUOT = 62;
export const SLASH = 47;
export const PERCENT = 37;
export const LBRACKET = 91;
export const RBRACKET = 93;

export function isToken(c: number): boolean {
  return c < 128 && (CLASS[c]! & TOKEN) !== 0;
}

export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

export function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** Skips SP and HT (folding has already been turned into a single SP by the parser). */
export function skipWs(s: string, i: number, end: number): number {
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c !== SP && c !== HT) break;
    i++;
  }
  return i;
}

/** Moves `end` back over trailing SP and HT, not below `start`. */
export function trimWsEnd(s: string, start: number, end: number): number {
  while (end > start) {
    const c = s.charCodeAt(end - 1);
    if (c !== SP && c !== HT) break;
    end--;
  }
  return end;
}

/** End of the token starting at `i` (== `i` when there is none). */
export function scanToken(s: string, i: number, end: number): number {
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c >= 128 || (CLASS[c]! & TOKEN) === 0) break;
    i++;
  }
  return i;
}

/**
 * A fixed set of lowercase names (parameter names, header names) recognised in place,
 * ignoring ASCII case, so that a parser can use the shared constant string instead of
 * slicing (and hashing) a new one every time.
 */
export class Vocabulary {
  /** Indices of the words by length and first letter: index `length * 32 + ((first | 32) & 31)`. */
  private readonly buckets: Array<number[] | undefined> = [];

  constructor(readonly words: readonly string[]) {
    for (let i = 0; i < words.length; i++) {
      const w = words[i]!;
      (this.buckets[bucketOf(w.length, w.charCodeAt(0))] ??= []).push(i);
    }
  }

  /** The word equal to `s[a, b)` ignoring case, or undefined. */
  find(s: string, a: number, b: number): string | undefined {
    const i = this.indexOf(s, a, b);
    return i === -1 ? undefined : this.words[i];
  }

  /** Index (in the constructor's list) of the word equal to `s[a, b)` ignoring case, or -1. */
  indexOf(s: string, a: number, b: number): number {
    const n = b - a;
    if (n <= 0) return -1;
    const list = this.buckets[bucketOf(n, s.charCodeAt(a))];
    if (list === undefined) return -1;
    for (let e = 0; e < list.length; e++) {
      const w = this.words[list[e]!]!;
      let k = 0;
      while (k < n) {
        const c = s.charCodeAt(a + k);
        const wc = w.charCodeAt(k);
        // Words are lowercase: only an uppercase letter may stand for a lowercase one.
        if (c !== wc && (c < 65 || c > 90 || c + 32 !== wc)) break;
        k++;
      }
      if (k === n) return list[e]!;
    }
    return -1;
  }
}

function bucketOf(length: number, first: number): number {
  return length * 32 + ((first | 32) & 31);
}

/**
 * The token at `i`, lowercased: a shared string from `vocabulary` when it is one of its
 * words, else sliced once (and lowercased only when it holds an uppercase letter); '' when
 * there is no token at `i`. `tokenEnd` tells where it ended.
 */
export function takeLowerToken(s: string, i: number, end: number, vocabulary?: Vocabulary): string {
  const start = i;
  let upper = false;
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c >= 128 || (CLASS[c]! & TOKEN) === 0) break;
    if (c >= 65 && c <= 90) upper = true;
    i++;
  }
  tokenEnd = i;
  if (i === start) return '';
  if (vocabulary !== undefined) {
    const known = vocabulary.find(s, start, i);
    if (known !== undefined) return known;
  }
  return upper ? s.slice(start, i).toLowerCase() : s.slice(start, i);
}

/** Where the last takeLowerToken stopped (a scratch value: parsing is synchronous). */
export let tokenEnd = 0;

/** True when every character of the range is a token character and the range is not empty. */
export function isTokenRange(s: string, start: number, end: number): boolean {
  return end > start && scanToken(s, start, end) === end;
}

/**
 * `s.indexOf(ch, i)` that remembers its last answer: the parsers ask where the next rare
 * character (`\\`, `%`, `?`, `,`) is many times over one header section, and an unbounded
 * search that finds nothing would otherwise walk the rest of the section every time.
 */
export class NextIndex {
  private s = '';
  private from = 0;
  private at = -1;

  constructor(private readonly ch: string) {}

  find(s: string, i: number): number {
    // The string test first: for the section being parsed it is the same object (see
    // startScanning), which compares in one step; two different strings of equal length
    // would be compared character by character.
    if (s === this.s && i >= this.from && (this.at === -1 || this.at >= i)) return this.at;
    this.s = s;
    this.from = i;
    this.at = s.indexOf(this.ch, i);
    return this.at;
  }

  /** Forgets the last answer and takes `s` as the string to come (nothing searched yet). */
  reset(s: string): void {
    this.s = s;
    this.from = s.length + 1;
    this.at = -1;
  }
}

export const nextBackslash = new NextIndex('\\');
export const nextPercent = new NextIndex('%');
export const nextQuestion = new NextIndex('?');
const nextComma = new NextIndex(',');

/** Called once per header section before it is scanned. */
export function startScanning(s: string): void {
  nextBackslash.reset(s);
  nextPercent.reset(s);
  nextQuestion.reset(s);
  nextComma.reset(s);
}

/**
 * `i` is at a DQUOTE: returns the index after the closing DQUOTE, or -1 when the string is
 * unterminated. Quoted-pairs (`\"`, `\\`) are skipped. Raw control characters are not
 * rejected here: NUL is refused for the whole header section and CR/LF cannot occur inside
 * a header value, the others are harmless text.
 */
export function scanQuoted(s: string, i: number, end: number): number {
  const close = s.indexOf('"', i + 1);
  if (close === -1 || close >= end) return -1;
  const bs = nextBackslash.find(s, i + 1);
  if (bs === -1 || bs > close) return close + 1;
  i = bs;
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c === DQUOTE) return i + 1;
    if (c === BACKSLASH) {
      if (i + 1 >= end) return -1;
      const n = s.charCodeAt(i + 1);
      if (n === CR || n === LF) return -1;
      i += 2;
      continue;
    }
    i++;
  }
  return -1;
}

/**
 * Index of the end of one element of a comma-separated header value starting at `i`: the
 * next COMMA outside quoted-strings and `<...>`, or `end`. Returns -1 when a quote or an
 * angle bracket is left open before a comma.
 */
export function scanListElement(s: string, i: number, end: number): number {
  // Most values are a single element: no comma at all means no walk (an open quote or
  // bracket is then caught by the element's own parser).
  const comma = nextComma.find(s, i);
  if (comma === -1 || comma >= end) return end;
  let angle = false;
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c === DQUOTE) {
      const q = scanQuoted(s, i, end);
      if (q === -1) return -1;
      i = q;
      continue;
    }
    if (c === LAQUOT) angle = true;
    else if (c === RAQUOT) angle = false;
    else if (c === COMMA && !angle) return i;
    i++;
  }
  return angle ? -1 : end;
}

/** The range lowercased, without allocating a second string when it is lowercase already. */
export function lowerSlice(s: string, start: number, end: number): string {
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) return s.slice(start, end).toLowerCase();
  }
  return s.slice(start, end);
}

/**
 * Parses `1*DIGIT` in the range as a non-negative integer no larger than `max`. Returns -1
 * when the range is empty or holds a non-digit, -2 when the number exceeds `max` (leading
 * zeros are allowed: `0068` is 68).
 */
export function parseDigits(s: string, start: number, end: number, max: number): number {
  if (end <= start) return -1;
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    v = v * 10 + (c - 48);
    if (v > max) {
      // Keep checking the syntax so that "99999x" reports the bad character, not the size.
      for (let j = i + 1; j < end; j++) {
        const d = s.charCodeAt(j);
        if (d < 48 || d > 57) return -1;
      }
      return -2;
    }
  }
  return v;
}
