// A new SIP account from what an operator types (CLI, API, CSV import): the user and domain
// checked, the password turned into its HA1 hashes here and kept nowhere else.

import type { NewAccount } from '../store/store.js';
import { computeHa1 } from './digest.js';

/** Input an operator can fix; the message says what is wrong. */
export class AccountInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AccountInputError';
  }
}

const USERNAME = /^[A-Za-z0-9\-_.!~*'()&=+$,;?/%]+$/; // RFC 3261 user (unreserved / escaped / user-unreserved)
const DOMAIN = /^[A-Za-z0-9.-]+$/;

export function accountWithPassword(username: string, domain: string, password: string, customer: string | null, maxBindings: number | null = null): NewAccount {
  if (!USERNAME.test(username)) throw new AccountInputError(`username "${username}" has characters a SIP user part cannot hold`);
  const d = domain.toLowerCase();
  if (!DOMAIN.test(d)) throw new AccountInputError(`domain "${domain}" is not a host name such as example.com`);
  if (password.length === 0) throw new AccountInputError(`account ${username}@${d}: the password is empty`);
  return {
    username,
    domain: d,
    customer: customer && customer.length ? customer : null,
    ha1Md5: computeHa1('MD5', username, d, password),
    ha1Sha256: computeHa1('SHA-256', username, d, password),
    maxBindings,
  };
}

/** The HA1 hashes of a new password for an existing account. */
export function ha1sFor(username: string, domain: string, password: string): { ha1Md5: string; ha1Sha256: string } {
  if (password.length === 0) throw new AccountInputError(`account ${username}@${domain}: the password is empty`);
  return { ha1Md5: computeHa1('MD5', username, domain, password), ha1Sha256: computeHa1('SHA-256', username, domain, password) };
}
