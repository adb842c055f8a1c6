// The SIP endpoint (pjsip's name for it): receives requests from the transaction layer,
// applies the checks every UAS makes (URI scheme, Max-Forwards, Require — RFC 3261 §8.2),
// hands REGISTER to the registrar and answers what no usage takes yet: OPTIONS to the
// server with its capabilities, other methods with 405/404/480/501.

import { isSipUri } from '../sip/message.js';
import { serializeResponse } from '../sip/serializer.js';
import type { ServerTransaction, TransactionLayer } from '../transaction/server-transactions.js';
import type { BindingTable } from '../registrar/binding-table.js';
import { aorIn, type DomainResolver } from '../registrar/domain-resolver.js';
import { SUPPORTED_EXTENSIONS, type Registrar } from '../registrar/registrar.js';

/** Methods of RFC 3261 and its common extensions; anything else is answered 501. */
const KNOWN_METHODS: ReadonlySet<string> = new Set([
  'INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'PRACK', 'SUBSCRIBE', 'NOTIFY',
  'PUBLISH', 'INFO', 'REFER', 'MESSAGE', 'UPDATE',
]);

export const ALLOW = 'REGISTER, OPTIONS';

export interface EndpointDeps {
  readonly registrar: Registrar;
  readonly table: BindingTable;
  readonly domains: DomainResolver;
  readonly transactions: () => TransactionLayer;
  readonly serverHeader: () => string;
}

type Headers = Array<readonly [string, string]>;

export class SipEndpoint {
  private tagCounter = 0;
  private readonly tagPrefix = Math.floor(Math.random() * 0xffffffff).toString(16);

  constructor(private readonly deps: EndpointDeps) {}

  /** A new server transaction (never an ACK). */
  onRequest(tx: ServerTransaction): void {
    const msg = tx.req.msg;
    const method = msg.method;
    if (method === 'REGISTER') {
      if (!isSipUri(msg.uri)) return this.respond(tx, 416, 'Unsupported URI Scheme');
      this.deps.registrar.handle(tx);
      return;
    }
    if (method === 'CANCEL') {
      // We answer every request at once, so the transaction a CANCEL targets is complete
      // (§9.2: 200 to the CANCEL, no other effect) or unknown (481).
      const known = this.deps.transactions().hasInviteFor(tx.req);
      return known ? this.respond(tx, 200, 'OK') : this.respond(tx, 481, 'Call/Transaction Does Not Exist');
    }
    if (!KNOWN_METHODS.has(method)) return this.respond(tx, 501, 'Not Implemented', [['Allow', ALLOW]]);
    const uri = msg.uri;
    if (!isSipUri(uri)) return this.respond(tx, 416, 'Unsupported URI Scheme');
    const unsupported = msg.require.filter((t) => !SUPPORTED_EXTENSIONS.has(t));
    if (unsupported.length > 0) return this.respond(tx, 420, 'Bad Extension', [['Unsupported', unsupported.join(', ')]]);

    const domain = this.deps.domains.resolve(uri.host);
    const toServer = uri.user === null || uri.user === '';
    if (method === 'OPTIONS' && (toServer || domain !== null)) {
      // An OPTIONS for the server, or for a user (§11.2: answered as the UAS would be).
      if (!toServer && domain !== null && this.deps.table.of(aorIn(uri, domain)).length === 0) {
        return this.respond(tx, 404, 'Not Found');
      }
      return this.respond(tx, 200, 'OK', [
        ['Allow', ALLOW],
        ['Accept', 'application/sdp'],
        ['Supported', [...SUPPORTED_EXTENSIONS].join(', ')],
      ]);
    }
    if (msg.maxForwards === 0) return this.respond(tx, 483, 'Too Many Hops');
    if (domain === null) return this.respond(tx, 404, 'Not Found (domain not served)');
    if (toServer) return this.respond(tx, 405, 'Method Not Allowed', [['Allow', ALLOW]]);
    const registered = this.deps.table.of(aorIn(uri, domain)).length > 0;
    // Routing to bindings (SPEC §9) is not built yet: say so rather than pretend.
    if (registered) return this.respond(tx, 480, 'Temporarily Unavailable (call routing not enabled)');
    return this.respond(tx, 404, 'Not Found');
  }

  /** A response to a request that reached no usage. */
  respond(tx: ServerTransaction, status: number, reason: string, headers: Headers = []): void {
    const server = this.deps.serverHeader();
    if (server) headers.push(['Server', server]);
    // The serializer adds the tag only when the request's To has none (§8.2.6.2).
    tx.respond(status, serializeResponse(tx.req.echo, status, reason, headers, `${this.tagPrefix}.${(this.tagCounter++).toString(36)}`));
  }
}
