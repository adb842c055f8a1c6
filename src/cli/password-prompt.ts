// Passwords the CLI asks for (SIP accounts, console users): from a terminal without echo, or
// piped as the first line of stdin — either way out of the process list, unlike --password.

import { createInterface } from 'node:readline';
import { UsageError } from './usage-error.js';

/** Reads one line from the terminal without echoing it. */
export function promptHidden(prompt: string): Promise<string> {
  process.stderr.write(prompt);
  return new Promise((resolve) => {
    const stdin = process.stdin;
    stdin.setRawMode(true);
    stdin.resume();
    let line = '';
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          stdin.setRawMode(false);
          stdin.pause();
          stdin.off('data', onData);
          process.stderr.write('\n');
          resolve(line);
          return;
        }
        if (ch === '\u0003') {
          stdin.setRawMode(false);
          process.stderr.write('\n');
          process.exit(130);
        }
        line = ch === '\u007f' || ch === '\b' ? [...line].slice(0, -1).join('') : line + ch;
      }
    };
    stdin.on('data', onData);
  });
}

/** The first line of a piped stdin. */
export async function firstStdinLine(): Promise<string> {
  const rl = createInterface({ input: process.stdin });
  for await (const line of rl) {
    rl.close();
    return line;
  }
  throw new UsageError('no --password given and nothing on stdin');
}

/**
 * A password not given on the command line: typed at a terminal (twice when `confirm`, for a
 * new one), else the first line of stdin.
 */
export async function readPassword(confirm: boolean): Promise<string> {
  if (!process.stdin.isTTY) return firstStdinLine();
  const password = await promptHidden('Password: ');
  if (!confirm) return password;
  const repeated = await promptHidden('Repeat: ');
  if (password !== repeated) throw new UsageError('the two passwords differ; nothing was changed');
  return password;
}
