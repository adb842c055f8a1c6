// A minimal SIP user agent for tests that need to know exactly which request got which
// answer (durability, robustness, conformance): raw UDP/TCP sockets, our own parser for the
// responses, and digest computed with createHash independently of the server's code.

import { createHash, randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { connect, type Socket as TcpSocket } from 'node:net';
import type { SipRequest, SipResponse } from '../../src/sip/message.js';
import { parseMessage } from '../../src/sip/parser.js';
import { StreamFramer } from '../../src/sip/stream-framer.js';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export class UdpSipClient {
  readonly socket: Socket;
  private readonly waiters = new Map<string, (r: SipResponse) => void>();
  port = 0;
  /** The bytes of the last response handed to a waiter (for byte-level comparisons). */
  lastWire = '';
  /** Requests the server sent to this client (keep-alive OPTIONS), with where they came from. */
  readonly requests: Array<{ msg: SipRequest; text: string; from: string }> = [];
  /** Answer the server's requests with 200 OK (a phone that is there); false: stay silent. */
  answerRequests = true;

  private constructor(readonly target: { host: string; port: number }, socket: Socket) {
    this.socket = socket;
    socket.on('message', (buf, rinfo) => {
      const m = parseMessage(buf, 'datagram');
      if (m.kind === 'request') {
        this.requests.push({ msg: m, text: buf.toString('latin1'), from: `${rinfo.address}:${rinfo.port}` });
        if (this.answerRequests) this.socket.send(Buffer.from(okFor(m, buf.toString('latin1'))), rinfo.port, rinfo.address);
        return;
      }
      if (m.kind !== 'response') return;
      const key = `${m.callId}|${m.cseq.seq}`;
      const w = this.waiters.get(key);
      if (w) {
        this.waiters.delete(key);
        this.lastWire = buf.toString('latin1');
        w(m);
      }
    });
  }

  static async open(target: { host: string; port: number }, bindAddress = '127.0.0.1'): Promise<UdpSipClient> {
    const socket = createSocket(target.host.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((res) => socket.bind(0, bindAddress, () => res()));
    const c = new UdpSipClient(target, socket);
    c.port = socket.address().port;
    return c;
  }

  /** Sends raw bytes (anything at all). */
  sendRaw(buf: Buffer | string): void {
    this.socket.send(typeof buf === 'string' ? Buffer.from(buf) : buf, this.target.port, this.target.host);
  }

  /**
   * Sends a request and resolves its final response, retransmitting like a UA does on UDP
   * (Timer E: T1 doubling up to T2) until timeoutMs.
   */
  request(text: string, timeoutMs = 3000): Promise<SipResponse> {
    const callId = /^Call-ID: *(.*)$/im.exec(text)?.[1]?.trim() ?? '';
    const cseq = Number(/^CSeq: *(\d+)/im.exec(text)?.[1] ?? -1);
    const bytes = text.replace(/\r?\n/g, '\r\n');
    return new Promise((resolve, reject) => {
      const key = `${callId}|${cseq}`;
      let interval = 500;
      let retransmit: NodeJS.Timeout;
      const again = () => {
        retransmit = setTimeout(() => {
          this.sendRaw(bytes);
          interval = Math.min(interval * 2, 4000);
          again();
        }, interval);
      };
      const timer = setTimeout(() => {
        clearTimeout(retransmit);
        this.waiters.delete(key);
        reject(new Error(`no response to ${key}`));
      }, timeoutMs);
      this.waiters.set(key, (r) => {
        if (r.status < 200) return;
        clearTimeout(timer);
        clearTimeout(retransmit);
        resolve(r);
      });
      this.sendRaw(bytes);
      again();
    });
  }

  close(): void {
    this.socket.close();
  }
}

export interface RegisterParams {
  readonly user: string;
  readonly password: string;
  readonly domain: string;
  readonly contactHost: string;
  readonly contactPort: number;
  readonly expires: number;
  readonly callId?: string;
  readonly transport?: 'UDP' | 'TCP' | 'TLS' | 'WS' | 'WSS';
  readonly viaPort: number;
}

export function registerText(p: RegisterParams, cseq: number, auth: string | null): string {
  return [
    `REGISTER sip:${p.domain} SIP/2.0`,
    `Via: SIP/2.0/${p.transport ?? 'UDP'} ${p.contactHost}:${p.viaPort};branch=z9hG4bK${randomBytes(8).toString('hex')};rport`,
    'Max-Forwards: 70',
    `From: <sip:${p.user}@${p.domain}>;tag=${randomBytes(4).toString('hex')}`,
    `To: <sip:${p.user}@${p.domain}>`,
    `Call-ID: ${p.callId ?? `${p.user}-call@test`}`,
    `CSeq: ${cseq} REGISTER`,
    `Contact: <sip:${p.user}@${p.contactHost}:${p.contactPort}>`,
    `Expires: ${p.expires}`,
    'User-Agent: rollcall-test-client',
    ...(auth ? [`Authorization: ${auth}`] : []),
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** Authorization value answering the challenge of a 401 for `algorithm` (MD5 or SHA-256). */
export function digestAuthorization(challenge: SipResponse, user: string, password: string, uri: string, algorithm: 'MD5' | 'SHA-256' = 'MD5'): string {
  const c = challenge.wwwAuthenticate.find((w) => (w.params.get('algorithm') ?? 'MD5').toUpperCase() === algorithm);
  if (!c) throw new Error(`no ${algorithm} challenge`);
  const H = algorithm === 'MD5' ? md5 : sha256;
  const realm = c.params.get('realm')!;
  const nonce = c.params.get('nonce')!;
  const cnonce = randomBytes(6).toString('hex');
  const ha1 = H(`${user}:${realm}:${password}`);
  const response = H(`${ha1}:${nonce}:00000001:${cnonce}:auth:${H(`REGISTER:${uri}`)}`);
  return `Digest username="${user}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=${algorithm}, qop=auth, nc=00000001, cnonce="${cnonce}"`;
}

/** REGISTER → 401 → authenticated REGISTER; resolves the final response. */
export async function registerWithDigest(client: UdpSipClient, p: Omit<RegisterParams, 'viaPort'>, firstCseq = 1, algorithm: 'MD5' | 'SHA-256' = 'MD5'): Promise<SipResponse> {
  const params = { ...p, viaPort: client.port };
  const challenge = await client.request(registerText(params, firstCseq, null));
  if (challenge.status !== 401) return challenge;
  return client.request(registerText(params, firstCseq + 1, digestAuthorization(challenge, p.user, p.password, `sip:${p.domain}`, algorithm)));
}

/** A TCP connection that frames what comes back, for stream tests. */
export class TcpSipConnection {
  readonly responses: SipResponse[] = [];
  private waiters: Array<() => void> = [];
  closed = false;

  private constructor(readonly socket: TcpSocket) {
    const framer = new StreamFramer(65535, (ev) => {
      if (ev.type !== 'message') return;
      const m = parseMessage(ev.buf, 'stream');
      if (m.kind === 'response') this.responses.push(m);
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('data', (c) => framer.push(c));
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static open(host: string, port: number, localAddress?: string): Promise<TcpSipConnection> {
    return new Promise((resolve, reject) => {
      const s = connect({ host, port, localAddress }, () => resolve(new TcpSipConnection(s)));
      s.once('error', reject);
    });
  }

  write(buf: Buffer | string): void {
    this.socket.write(buf);
  }

  /** Waits until `n` responses arrived, the connection closed, or timeoutMs passed. */
  async waitFor(n: number, timeoutMs = 2000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.responses.length < n && !this.closed && Date.now() < deadline) {
      await new Promise<void>((res) => {
        const t = setTimeout(res, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          res();
        });
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A 200 OK to a request, from its own header lines (Via, From, To with a tag, Call-ID, CSeq). */
function okFor(req: SipRequest, text: string): string {
  const lines = text.split('\r\n');
  const keep = (name: RegExp) => lines.filter((l) => name.test(l));
  const to = keep(/^(To|t):/i).map((l) => (/;tag=/i.test(l) ? l : `${l};tag=ok${req.cseq.seq}`));
  return ['SIP/2.0 200 OK', ...keep(/^(Via|v):/i), ...keep(/^(From|f):/i), ...to, ...keep(/^(Call-ID|i):/i), ...keep(/^CSeq:/i), 'Content-Length: 0', '', ''].join('\r\n');
}
