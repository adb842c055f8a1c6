#!/usr/bin/env node
// `rollcall`: the command-line edge. Every command takes --data-dir (or --config, whose
// store.dataDir is used) so it works on the same data as the server, running or not.

import { Command, Option } from 'commander';
import { ConfigError } from '../config/load-config.js';
import { AUTH_MODES, FAILURE_REASONS, USER_ROLES } from '../store/store.js';
import { accountsCommand } from './accounts-command.js';
import { configReference } from './config-reference.js';
import { registrationsCommand } from './registrations-command.js';
import { DEFAULT_BLOCK_REASON, securityCommand } from './security-command.js';
import { serveCommand } from './serve-command.js';
import { statusCommand } from './status-command.js';
import { UsageError } from './usage-error.js';
import { usersCommand } from './users-command.js';
import { DEFAULT_API_URL } from './api-connection.js';

const collect = (v: string, prev: string[]) => [...prev, v];

const program = new Command()
  .name('rollcall')
  .description('Rollcall: a SIP registrar with registration management')
  .showHelpAfterError()
  .configureOutput({ outputError: (s, write) => write(s) });

program
  .command('serve')
  .description('run the registrar')
  .option('--config <file>', 'YAML or JSON configuration file')
  .option('--data-dir <dir>', 'data directory (store.dataDir)')
  .option('--listen <transport:host:port>', 'listen on a socket: udp, tcp, tls, ws or wss, e.g. udp:127.0.0.1:5060, tls:0.0.0.0:5061, ws:[::1]:8088 (repeatable; replaces sip.listen)', collect, [])
  .option('--tls-cert <file>', 'PEM certificate for tls and wss listeners (sip.tls.cert)')
  .option('--tls-key <file>', 'PEM private key of --tls-cert (sip.tls.key)')
  .option('--domain <domain>', 'serve a SIP domain (repeatable; replaces registrar.domains)', collect, [])
  .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace']))
  .addOption(new Option('--log-format <format>', 'log format').choices(['json', 'pretty']))
  .option('--http <host:port>', 'address of the web console and API (http.listen; default 127.0.0.1:8080, `off` to disable)')
  .option('--set <key=value>', 'set any configuration key, e.g. --set registrar.maxBindings=3 (repeatable)', collect, [])
  .action(serveCommand);

const accounts = program.command('accounts').description('manage SIP accounts (works with the server stopped or running)');
accounts
  .command('add <username>')
  .description('add an account')
  .requiredOption('--domain <domain>', 'SIP domain (also the digest realm)')
  .option('--password <password>', 'password (prompted for, or read from stdin, when omitted)')
  .option('--customer <name>', 'customer account the phone belongs to')
  .option('--max-bindings <n>', 'override registrar.maxBindings for this account')
  .addOption(new Option('--auth-mode <mode>', 'how its REGISTERs authenticate (ip and ip-port need --allow-from and take no password)').choices(AUTH_MODES))
  .option('--allow-from <cidr>', 'accept REGISTERs only from this network or address (ADDR:PORT for ip-port; repeatable)', collect, [])
  .option('--data-dir <dir>', 'data directory')
  .option('--config <file>', 'configuration file (for store.dataDir)')
  .option('--url <url>', `the server's API address (ROLLCALL_URL; default ${DEFAULT_API_URL})`)
  .option('--token <token>', 'go through the running server\'s API with this token (ROLLCALL_TOKEN)')
  .action(accountsCommand.add);
accounts
  .command('import <file>')
  .description('add accounts from a CSV file with the header row username,domain,password,customer')
  .option('--data-dir <dir>', 'data directory')
  .option('--config <file>', 'configuration file (for store.dataDir)')
  .option('--url <url>', `the server's API address (ROLLCALL_URL; default ${DEFAULT_API_URL})`)
  .option('--token <token>', 'go through the running server\'s API with this token (ROLLCALL_TOKEN)')
  .action(accountsCommand.import);
accounts
  .command('list')
  .description('list accounts')
  .option('--json', 'JSON output')
  .option('--data-dir <dir>', 'data directory')
  .option('--config <file>', 'configuration file (for store.dataDir)')
  .option('--url <url>', `the server's API address (ROLLCALL_URL; default ${DEFAULT_API_URL})`)
  .option('--token <token>', 'go through the running server\'s API with this token (ROLLCALL_TOKEN)')
  .action(accountsCommand.list);
accounts
  .command('remove <username>')
  .description('delete an account')
  .requiredOption('--domain <domain>', 'SIP domain')
  .option('--data-dir <dir>', 'data directory')
  .option('--config <file>', 'configuration file (for store.dataDir)')
  .option('--url <url>', `the server's API address (ROLLCALL_URL; default ${DEFAULT_API_URL})`)
  .option('--token <token>', 'go through the running server\'s API with this token (ROLLCALL_TOKEN)')
  .action(accountsCommand.remove);

const users = program
  .command('users')
  .description('manage console users of the web console and the API (works with the server stopped or running)');
users
  .command('add <name>')
  .description('add a console user')
  .requiredOption('--role <role>', `role: ${USER_ROLES.join(', ')}`)
  .option('--password <password>', 'password (prompted for twice, or read from stdin, when omitted)')
  .option('--data-dir <dir>', 'data directory')
  .option('--config <file>', 'configuration file (for store.dataDir and http.passwordPolicy)')
  .action(usersCommand.add);
users
  .command('list')
  .description('list console users: name, role, created, last login')
  .option('--json', 'JSON output')
  .option('--data-dir <dir>', 'data directory')
  .option('--config <file>', 'configuration file (for store.dataDir)')
  .action(usersCommand.list);
users
  .command('remove <name>')
  .description('delete a console user with its API tokens and sessions (not the last admin)')
  .option('--data-dir <dir>', 'data directory')
  .option('--config <file>', 'configuration file (for store.dataDir)')
  .action(usersCommand.remove);
users
  .command('passwd <name>')
  .description("set a console user's password and end its console sessions")
  .option('--password <password>', 'password (prompted for twice, or read from stdin, when omitted)')
  .option('--data-dir <dir>', 'data directory')
  .option('--config <file>', 'configuration file (for store.dataDir and http.passwordPolicy)')
  .action(usersCommand.passwd);
users
  .command('role <name> <role>')
  .description(`change a console user's role (${USER_ROLES.join(', ')}; the last admin stays admin)`)
  .option('--data-dir <dir>', 'data directory')
  .option('--config <file>', 'configuration file (for store.dataDir)')
  .action(usersCommand.role);
users
  .command('token <name>')
  .description('create an API token for a console user and print only the token')
  .option('--token-name <label>', 'label shown in the token list', 'cli')
  .option('--data-dir <dir>', 'data directory')
  .option('--config <file>', 'configuration file (for store.dataDir)')
  .action(usersCommand.token);

const security = program
  .command('security')
  .description('blocked addresses and usernames, allow/deny address lists, failed registrations (server stopped or running)');
const dataDirOptions = (c: Command) =>
  c.option('--data-dir <dir>', 'data directory').option('--config <file>', 'configuration file (for store.dataDir)');
const blocks = security.command('blocks').description('blocked source addresses and usernames (lockouts and bans)');
dataDirOptions(blocks.command('list').description('blocks in force: kind, value, until, by whom, since, why').option('--json', 'JSON output')).action(
  securityCommand.blocks.list,
);
dataDirOptions(
  blocks
    .command('add <address|user@domain>')
    .description('block a source address or a username (answered as security.unauthorizedResponse says)')
    .option('--for <seconds>', 'for this long (seconds, or 90s, 15m, 1h, 7d); default until removed')
    .option('--reason <text>', `why, for the list and the audit log (default "${DEFAULT_BLOCK_REASON}")`),
).action(securityCommand.blocks.add);
dataDirOptions(blocks.command('remove <address|user@domain>').description('lift a block (a lockout or a ban)')).action(securityCommand.blocks.remove);
for (const list of ['allow', 'deny'] as const) {
  dataDirOptions(
    security
      .command(list)
      .description(
        list === 'allow'
          ? 'the allow list: sources that bypass rate limits and lockouts'
          : 'the deny list: sources refused before anything else',
      )
      .command('add <cidr>')
      .description(`add a network (CIDR) or an address to the ${list} list`)
      .option('--customer <name>', "apply only to this customer account's phones (default: all)")
      .option('--note <text>', 'why, shown in the list'),
  ).action(list === 'allow' ? securityCommand.allowAdd : securityCommand.denyAdd);
}
const lists = dataDirOptions(
  security.command('lists').description('every allow and deny list entry: id, list, CIDR, customer, by whom, since, note').option('--json', 'JSON output'),
).action(securityCommand.lists);
// The parent `lists` takes --data-dir/--config wherever they are written: read them from both.
dataDirOptions(lists.command('remove <id>').description('delete an allow/deny list entry by its id')).action((id: string, _o: unknown, c: Command) =>
  securityCommand.listsRemove(id, c.optsWithGlobals()),
);
dataDirOptions(
  security
    .command('failures')
    .description('the failed-registration log, newest first, or with --counts the sums by reason, source and username')
    .option('--since <iso>', 'from this time (e.g. 2025-01-31T12:00:00Z)')
    .option('--last <duration>', 'over the last 90s, 15m, 1h, 7d...')
    .option('--until <iso>', 'before this time')
    .option('--reason <reason>', `only this reason: ${FAILURE_REASONS.join(', ')}`)
    .option('--ip <address>', 'only from this source address')
    .option('--user <name>', 'only this username tried')
    .option('--limit <n>', 'at most this many rows (default 100; with --counts 10 of each)')
    .option('--counts', 'sums by reason, by source address and by username instead of rows')
    .option('--json', 'JSON output'),
).action(securityCommand.failures);

const registrations = program
  .command('registrations')
  .description('see and control current registrations (through the API with --token, else on the local data directory)');
const apiOptions = (c: Command) =>
  c
    .option('--url <url>', `the server's API address (ROLLCALL_URL; default ${DEFAULT_API_URL})`)
    .option('--token <token>', 'API token (ROLLCALL_TOKEN; `rollcall users token NAME` prints one)');
const filterOptions = (c: Command) =>
  c
    .option('--number <n>', 'phone number, exact')
    .option('--prefix <p>', 'phone number starts with')
    .option('--ip <pattern>', 'source or contact address: exact, wildcard (192.168.1.x) or CIDR')
    .option('--customer <name>', 'customer account')
    .option('--status <s>', 'registered or expiring')
    .option('--user-agent <text>', 'User-Agent contains')
    .option('--transport <t>', 'UDP, TCP, TLS, WS or WSS')
    .option('--reachability <r>', 'reachable, unreachable or unknown (keep-alive)')
    .option('--sort <key>', 'number, aor, sourceAddress, userAgent, registeredAt, refreshedAt or expiresAt')
    .option('--order <o>', 'asc or desc');
filterOptions(
  apiOptions(
    registrations
      .command('list')
      .description('current bindings: AOR, contact, source, transport, remaining seconds, user agent, registered at, status')
      .option('--json', 'JSON output')
      .option('--limit <n>', 'at most this many rows (API; default 100)')
      .option('--all', 'every matching row (API)')
      .option('--data-dir <dir>', 'data directory (without --token)')
      .option('--config <file>', 'configuration file (for store.dataDir)'),
  ),
).action(registrationsCommand.list);
apiOptions(
  registrations
    .command('show <id>')
    .description('one registration: every field, its raw last REGISTER and 200 OK, its history (API)')
    .option('--json', 'JSON output'),
).action(registrationsCommand.show);
apiOptions(
  registrations
    .command('remove <aor>')
    .description('force-unregister every binding of an AOR (or one contact); the endpoint is not told')
    .option('--contact <uri>', 'remove only this contact URI')
    .option('--data-dir <dir>', 'data directory (without --token)')
    .option('--config <file>', 'configuration file (for store.dataDir)'),
).action(registrationsCommand.remove);
filterOptions(
  apiOptions(
    registrations
      .command('export')
      .description('the filtered list as CSV or JSON (API)')
      .option('--format <f>', 'csv (default) or json')
      .option('--output <file>', 'write to this file instead of stdout'),
  ),
).action(registrationsCommand.export);

program
  .command('status')
  .description('what the running server reports: bindings, sockets, counters, memory')
  .option('--json', 'JSON output')
  .option('--data-dir <dir>', 'data directory')
  .option('--config <file>', 'configuration file (for store.dataDir)')
  .action(statusCommand);

program
  .command('config')
  .description('configuration helpers')
  .command('reference')
  .description('print the configuration reference (Markdown) generated from the schema')
  .action(() => {
    process.stdout.write(configReference() + '\n');
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof ConfigError || err instanceof UsageError) {
    process.stderr.write(`rollcall: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`rollcall: ${(err as Error).message}\n`);
  process.exit(1);
}
