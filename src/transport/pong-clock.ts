// The answers to a connection's keep-alive pings (a pong frame on WebSocket, RFC 6455 §5.5.3;
// a CRLF on TCP/TLS, RFC 5626 §4.4.1, from clients that answer): how many pings are waiting
// for one, and when the last came and how long it took — the keep-alive's round-trip time and
// last-seen for bindings on connection flows.

export class PongClock {
  /** Pings sent since the last answer. */
  unanswered = 0;
  /** When the last answer came, epoch ms (0: never). */
  pongAt = 0;
  /** Its round-trip time, whole ms; null until an answer came. */
  rttMs: number | null = null;
  /** When the oldest unanswered ping was sent (meaningful while unanswered > 0). */
  waitingSince = 0;
  /** When the last ping was sent, epoch ms (0: never). */
  pingedAt = 0;

  pinged(now: number): void {
    this.pingedAt = now;
    if (this.unanswered === 0) this.waitingSince = now;
    this.unanswered++;
  }

  /** An answer; one nobody asked for (RFC 6455 allows a pong as a heartbeat) times nothing. */
  ponged(now: number): void {
    if (this.unanswered === 0) return;
    this.unanswered = 0;
    this.pongAt = now;
    this.rttMs = Math.max(0, now - this.waitingSince);
  }
}
