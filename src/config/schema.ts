// The one declaration of Rollcall's configuration: every key with its type, default and
// description. The loader, the CLI flags, the README reference and (later) the API and
// console all read from this schema.

import { z } from 'zod';
import { parseListenAddress } from './listen-address.js';

const listenAddress = z.string().superRefine((v, ctx) => {
  const r = parseListenAddress(v);
  if (typeof r === 'string') ctx.addIssue({ code: 'custom', message: r });
});

const domainName = z
  .string()
  .min(1)
  .regex(/^[A-Za-z0-9.-]+$|^\[?[0-9A-Fa-f:.]+\]?$/, 'a host name or IP address such as example.com or 192.0.2.10');

const seconds = z.number().int().min(0);

export const sipSchema = z
  .object({
    listen: z
      .array(listenAddress)
      .min(1)
      .default(['udp:0.0.0.0:5060', 'tcp:0.0.0.0:5060'])
      .describe('Sockets to listen on, each `transport:host:port`: udp, tcp, tls (needs `sip.tls.cert` and `sip.tls.key`), ws or wss (WebSocket, RFC 7118; wss needs the certificate too); IPv6 as `[::1]`.'),
    maxMessageSize: z
      .number()
      .int()
      .min(1500)
      .max(1048576)
      .default(65535)
      .describe('Largest SIP message accepted, in bytes; larger ones on TCP/TLS are answered 513 and the connection closed, a larger WebSocket frame closes its connection with 1009.'),
    udpReceiveBuffer: z
      .number()
      .int()
      .min(65536)
      .default(4194304)
      .describe('UDP socket receive buffer requested, in bytes (capped by net.core.rmem_max). Small buffers drop datagrams during GC pauses.'),
    udpSendBuffer: z.number().int().min(65536).default(4194304).describe('UDP socket send buffer requested, in bytes.'),
    udpKeepAliveThreads: z
      .boolean()
      .default(true)
      .describe(
        'Send keep-alive pings over UDP from a thread of their own and read their answers off a socket of their own in batches (Linux; the native addon `npm ci` builds with a C compiler), so they do not hold up REGISTERs on the event loop. false, or without the addon, both are done on the event loop; the start-up log says which.',
      ),
    forceRport: z
      .boolean()
      .default(true)
      .describe('Answer every request at its source port and add `rport` to the top Via even when the client did not ask (RFC 3581 behaviour for all; NAT-friendly). When false, only requests with `rport` get it.'),
    tcpIdleTimeout: seconds
      .default(3900)
      .describe('Close a TCP, TLS or WebSocket connection after this many seconds without traffic (0: never). Keep it above the longest registration interval so phones stay reachable.'),
    tls: z
      .object({
        cert: z
          .string()
          .min(1)
          .nullable()
          .default(null)
          .describe('PEM file with the server certificate (and its chain) for `tls` and `wss` listeners. Read once at start.'),
        key: z
          .string()
          .min(1)
          .nullable()
          .default(null)
          .describe('PEM file with the private key of `cert` (unencrypted). Readable by Rollcall only; its content is never logged.'),
      })
      .strict()
      .prefault({})
      .describe('Certificate for the TLS and secure WebSocket listeners (RFC 3261 §26, RFC 7118). Clients are not asked for a certificate.'),
    serverHeader: z.string().default('Rollcall').describe('Value of the Server header in responses; empty to send none.'),
  })
  .strict()
  .prefault({})
  .describe('SIP transports and message handling.');

export const registrarSchema = z
  .object({
    domains: z
      .array(domainName)
      .default([])
      .describe('SIP domains served. Domains of configured accounts are served too. A REGISTER for any other domain gets 403.'),
    defaultDomain: domainName
      .nullable()
      .default(null)
      .describe('Domain meant when a Request-URI or To names one of Rollcall\'s own addresses or an alias (phones are often configured with the server\'s IP). Default: the first of `domains`, else the only account domain.'),
    aliases: z
      .array(domainName)
      .default([])
      .describe('Extra host names or addresses that mean the default domain (the listening addresses always do).'),
    maxBindings: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(1)
      .describe('Maximum bindings (registered devices) per address-of-record; an account can override it.'),
    replacePolicy: z
      .enum(['on', 'off'])
      .default('on')
      .describe('When a REGISTER from a new device would exceed maxBindings: `on` accepts it and removes ("kicks") the oldest binding; `off` rejects it with 403 and keeps the existing one.'),
    defaultExpires: seconds
      .min(1)
      .default(3600)
      .describe('Expiry granted when the REGISTER names none (no Contact expires param, no Expires header), in seconds.'),
    minExpires: seconds
      .min(1)
      .default(60)
      .describe('Shortest expiry accepted; a shorter non-zero one gets 423 Interval Too Brief with Min-Expires.'),
    maxExpires: seconds
      .min(1)
      .default(7200)
      .describe('Longest expiry granted; longer requests are clamped down to it.'),
    expirySpread: z
      .number()
      .min(0)
      .max(50)
      .default(0)
      .describe('Storm spreading: grant a random expiry up to this many percent below the requested one, so a fleet restarted together does not refresh together forever (0: off).'),
    expiringShare: z
      .number()
      .gt(0)
      .lt(1)
      .default(0.1)
      .describe('A binding is Expiring (refresh overdue) once less than this share of its interval is left.'),
  })
  .strict()
  .prefault({})
  .superRefine((r, ctx) => {
    if (r.minExpires > r.maxExpires) {
      ctx.addIssue({ code: 'custom', path: ['minExpires'], message: `minExpires (${r.minExpires}) must not exceed maxExpires (${r.maxExpires})` });
    }
    if (r.defaultExpires < r.minExpires || r.defaultExpires > r.maxExpires) {
      ctx.addIssue({ code: 'custom', path: ['defaultExpires'], message: `defaultExpires (${r.defaultExpires}) must lie within minExpires..maxExpires (${r.minExpires}..${r.maxExpires})` });
    }
  })
  .describe('Registration policy (SPEC §4).');

export const DIGEST_ALGORITHMS = ['MD5', 'SHA-256'] as const;

export const authSchema = z
  .object({
    algorithms: z
      .array(z.enum(DIGEST_ALGORITHMS))
      .min(1)
      .default(['MD5', 'SHA-256'])
      .describe('Digest algorithms offered in 401 challenges, one WWW-Authenticate each, in this order of preference. Many phones take the first one they know; put SHA-256 first only if all your phones support RFC 7616. Over WebSocket MD5 is always offered last: browser softphones (JsSIP, SIP.js) read only the last challenge and know only MD5.'),
    nonceLifetime: seconds
      .min(5)
      .default(300)
      .describe('Seconds a nonce stays valid; after that a correct response gets a new challenge with stale=true.'),
  })
  .strict()
  .prefault({})
  .describe('Digest authentication (RFC 3261 §22, RFC 7616).');

export const storeSchema = z
  .object({
    dataDir: z.string().min(1).default('data').describe('Folder of the embedded SQLite database (rollcall.db) and the control socket.'),
    synchronous: z
      .enum(['full', 'normal'])
      .default('full')
      .describe('`full`: every group commit is fsynced before 200 OK (survives power loss). `normal`: written to the OS before 200 OK (survives a crash or kill -9 of Rollcall, not of the machine).'),
  })
  .strict()
  .prefault({})
  .describe('Storage.');

export const historySchema = z
  .object({
    retentionDays: z.number().min(0.01).default(30).describe('Registration history (events) older than this is deleted.'),
    recordRefreshes: z
      .boolean()
      .default(true)
      .describe('Record a `refreshed` event for every re-registration (the largest share of history).'),
  })
  .strict()
  .prefault({})
  .describe('Registration history.');

export const logSchema = z
  .object({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info').describe('Log level.'),
    format: z.enum(['json', 'pretty']).default('json').describe('`json`: one JSON object per line (pino). `pretty`: readable lines for a terminal.'),
  })
  .strict()
  .prefault({})
  .describe('Logging.');

export const httpSchema = z
  .object({
    listen: z
      .string()
      .regex(/^(off|\[[0-9A-Fa-f:.]+\]:\d{1,5}|[^:\s]+:\d{1,5})$/, 'HOST:PORT such as 127.0.0.1:8080 or [::1]:8080, or off')
      .default('127.0.0.1:8080')
      .describe('Address of the web console (`/`) and the management API (`/api/`, docs at `/api/docs`), `HOST:PORT`; `off` disables both. Loopback by default: put a TLS reverse proxy in front to reach it from elsewhere.'),
    sessionTtl: seconds
      .min(60)
      .default(28800)
      .describe('Seconds a console login stays valid without activity.'),
    lockout: z
      .object({
        maxFailures: z.number().int().min(1).default(5).describe('Failed logins (per user, and per source address) that lock further logins.'),
        window: seconds.min(1).default(900).describe('Seconds over which failed logins are counted.'),
        duration: seconds.min(1).default(900).describe('Seconds a locked user or address stays locked (even the right password is refused).'),
      })
      .strict()
      .prefault({})
      .describe('Console login brute-force lockout.'),
    passwordPolicy: z
      .object({
        minLength: z.number().int().min(8).max(128).default(12).describe('Shortest console user password accepted (never equal to the user name).'),
      })
      .strict()
      .prefault({})
      .describe('Console user password policy.'),
    auditRetentionDays: z.number().min(1).default(365).describe('Audit log entries older than this are deleted.'),
  })
  .strict()
  .prefault({})
  .describe('Web console and management API (SPEC §5).');

export const securitySchema = z
  .object({
    enabled: z
      .boolean()
      .default(true)
      .describe('All SIP security checks (rate limits, blocks, lists, lockout, scanners, auth modes, the failure log). Off only to measure what they cost; needs a restart.'),
    rateLimit: z
      .object({
        enabled: z.boolean().default(true).describe('Limit requests per source address (token bucket), checked before a request is parsed.'),
        requestRate: z.number().gt(0).default(50000).describe('Requests per second allowed from one trusted source address (one that has authenticated, see newSourceRate), all methods together. High by default: an SBC or a big office NAT sends everything from one address.'),
        requestBurst: z.number().int().min(1).default(100000).describe('Requests a trusted source may send at once above its rate (bucket size).'),
        registerRate: z
          .number()
          .gt(0)
          .default(50000)
          .describe('REGISTERs per second allowed from one trusted source address. Generous by default: an office NAT puts hundreds of phones behind one address, and after a power cut they all register at once.'),
        registerBurst: z.number().int().min(1).default(100000).describe('REGISTERs a trusted source may send at once above its rate.'),
        newSourceRate: z
          .number()
          .gt(0)
          .default(20)
          .describe('Requests per second allowed from a source that has not authenticated successfully within `trustTime`. A flood of unauthenticated REGISTERs gets this little; a source earns the higher limits above once one of its phones authenticates.'),
        newSourceBurst: z.number().int().min(1).default(200).describe('Requests a new (not yet trusted) source may send at once above its rate.'),
        trustTime: seconds.min(1).default(3600).describe('Seconds a source stays trusted (the higher limits) after a successful authentication from it.'),
        action: z
          .enum(['drop', '503'])
          .default('drop')
          .describe('What a source over its limit gets: `drop` (nothing; cheapest under a flood) or `503` Service Unavailable with Retry-After.'),
      })
      .strict()
      .prefault({})
      .describe('Per-source rate limits.'),
    lockout: z
      .object({
        maxFailures: z.number().int().min(1).default(20).describe('Failed authentications from one source address within `window` that block it.'),
        window: seconds.min(1).default(60).describe('Seconds over which failed authentications are counted.'),
        duration: seconds.min(0).default(3600).describe('Seconds a source (or username) stays blocked; 0 blocks until an operator removes the block.'),
        perUsername: z.boolean().default(false).describe('Also block a username (from every address) after `maxUsernameFailures` failures: stops a password spray across many addresses, at the risk of locking out the real phone.'),
        maxUsernameFailures: z.number().int().min(1).default(50).describe('Failed authentications of one username within `window` that block it (when perUsername is on).'),
        maxAttemptsPerCallId: z
          .number()
          .int()
          .min(1)
          .default(5)
          .describe('A registration attempt (one Call-ID) that fails authentication more often than this gets 403 instead of a new challenge.'),
      })
      .strict()
      .prefault({})
      .describe('Brute-force lockout of SIP sources.'),
    floodBlock: z
      .object({
        enabled: z.boolean().default(true).describe('Block a source that keeps sending past its rate limit although it never authenticated (a flood), for `duration`. Sources whose phones authenticate are never blocked for their rate.'),
        threshold: z.number().int().min(1).default(1000).describe('Requests refused for the rate limit within `window` that make a flood. Far above what a misconfigured phone sends.'),
        window: seconds.min(1).default(10).describe('Seconds over which rate-limit refusals are counted.'),
        duration: seconds.min(0).default(600).describe('Seconds a flooding source stays blocked; 0 blocks until an operator removes the block.'),
      })
      .strict()
      .prefault({})
      .describe('Blocking of flooding sources.'),
    kernelFilter: z
      .enum(['auto', 'nftables', 'off'])
      .default('auto')
      .describe(
        'Have the kernel drop blocked sources (nftables, in Rollcall\'s own table `inet rollcall_<pid>`, matching only its SIP ports) so that a flood costs the process nothing. `auto`: when `nft` is installed and permitted (root or CAP_NET_ADMIN), else blocks are enforced in the process only; `nftables`: required (startup error without it); `off`. Only while unauthorizedResponse is `drop`. Needs a restart.',
      ),
    unauthorizedResponse: z
      .enum(['drop', '403'])
      .default('drop')
      .describe('What blocked or denied sources and scanners get: `drop` (silence: a scanner learns nothing) or `403` Forbidden.'),
    scannerAgents: z
      .array(z.string().min(2))
      .default([])
      .describe('User-Agent substrings (case-insensitive) treated as scanners, besides the built-in list (friendly-scanner, sipvicious, sipcli, VaxSIPUserAgent, ...).'),
    blockScanners: z.boolean().default(true).describe('Block the source address of a request from a scanner User-Agent (for lockout.duration).'),
    failureRetentionDays: z.number().min(0.01).default(30).describe('Failed registrations older than this are deleted from the failure log.'),
  })
  .strict()
  .prefault({})
  .describe('SIP security (SPEC §7): rate limits, lockout, scanners. Address lists and blocks are data: `rollcall security` and the API.');

export const natSchema = z
  .object({
    flowTimer: seconds
      .min(10)
      .default(120)
      .describe('Flow-Timer (RFC 5626) in the 200 OK of a registration that uses outbound: seconds between the keep-alives the client is to send on its flow.'),
    keepAlive: z
      .object({
        enabled: z.boolean().default(true).describe('Ping registered endpoints: SIP OPTIONS over UDP, CRLFCRLF on TCP/TLS/WebSocket connections. Keeps NAT bindings open and finds endpoints that went away.'),
        target: z.enum(['nat', 'all']).default('nat').describe('`nat`: only bindings flagged as behind NAT; `all`: every binding.'),
        interval: seconds.min(1).default(30).describe('Seconds between two pings of one endpoint. Pings are spread evenly over the interval.'),
        maxMisses: z.number().int().min(1).default(3).describe('Pings in a row without an answer after which the endpoint is flagged unreachable (an `unreachable` event).'),
        removeUnreachable: z.boolean().default(false).describe('Also remove the binding of an endpoint flagged unreachable (an `unreachable` event, then `removed`).'),
        throughPath: z
          .boolean()
          .default(false)
          .describe(
            'Also ping bindings registered through an edge proxy (Path, RFC 3327): an OPTIONS to the proxy the REGISTER came from, over the same transport, with the Path as its Route set, so that the proxy takes it to the endpoint. Off: keeping those endpoints\' NAT open is the proxy\'s job, and their reachability stays unknown.',
          ),
      })
      .strict()
      .prefault({})
      .describe('Keep-alive and online check.'),
    lostConnection: z
      .enum(['mark', 'remove'])
      .default('mark')
      .describe('When the TCP/TLS/WebSocket connection a binding registered over closes: `mark` it unreachable, or `remove` it (like Kamailio\'s handle_lost_tcp).'),
  })
  .strict()
  .prefault({})
  .describe('NAT traversal, keep-alive and reachability (SPEC §6).');

export const configSchema = z
  .object({
    sip: sipSchema,
    registrar: registrarSchema,
    auth: authSchema,
    store: storeSchema,
    history: historySchema,
    log: logSchema,
    http: httpSchema,
    security: securitySchema,
    nat: natSchema,
  })
  .strict();

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
