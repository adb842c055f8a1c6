// Test records for the store's tests and fixtures: a valid binding, event, failure or account
// with whatever a test wants to vary.

import { createHash } from 'node:crypto';
import type { BindingRecord, FailureRecord, NewAccount, RegistrationEvent, StoreOp } from './store.js';

export function bindingRecord(id: number, change: Partial<BindingRecord> = {}): BindingRecord {
  const now = 1_700_000_000_000 + id;
  return {
    id,
    aor: `sip:${1000 + (id % 500)}@example.com`,
    username: String(1000 + (id % 500)),
    domain: 'example.com',
    contact: `sip:${1000 + (id % 500)}@198.51.100.7:${5060 + (id % 1000)};transport=udp`,
    instance: null,
    regId: null,
    q: null,
    callId: `call-${id}@198.51.100.7`,
    cseq: 1,
    expires: 3600,
    expiresAt: now + 3_600_000,
    registeredAt: now,
    refreshedAt: now,
    sourceAddress: '198.51.100.7',
    sourcePort: 5060 + (id % 1000),
    transport: 'udp',
    localAddress: '192.0.2.1',
    localPort: 5060,
    userAgent: 'Fixture Phone 1.0',
    path: [],
    nat: false,
    ...change,
  };
}

export function putBinding(id: number, change: Partial<BindingRecord> = {}, messageSize = 40): StoreOp {
  return {
    op: 'put-binding',
    binding: bindingRecord(id, change),
    lastRequest: Buffer.from(`REGISTER sip:example.com SIP/2.0 ${id} `.padEnd(messageSize, 'x')),
    lastResponse: Buffer.from(`SIP/2.0 200 OK ${id} `.padEnd(messageSize, 'y')),
  };
}

export function registrationEvent(change: Partial<RegistrationEvent> = {}): RegistrationEvent {
  return {
    time: 1_700_000_000_000,
    type: 'registered',
    aor: 'sip:1001@example.com',
    contact: 'sip:1001@198.51.100.7:5060',
    bindingId: 1,
    sourceAddress: '198.51.100.7',
    sourcePort: 5060,
    transport: 'udp',
    userAgent: 'Fixture Phone 1.0',
    reason: null,
    ...change,
  };
}

export function failureRecord(change: Partial<FailureRecord> = {}): FailureRecord {
  return {
    time: 1_700_000_000_000,
    sourceAddress: '203.0.113.9',
    sourcePort: 5070,
    transport: 'UDP',
    username: '1001',
    userAgent: 'friendly-scanner',
    reason: 'wrong-password',
    detail: null,
    count: 1,
    ...change,
  };
}

export function newAccount(username: string, domain = 'example.com', change: Partial<NewAccount> = {}): NewAccount {
  const realm = domain.toLowerCase();
  return {
    username,
    domain,
    customer: null,
    ha1Md5: createHash('md5').update(`${username}:${realm}:secret`).digest('hex'),
    ha1Sha256: createHash('sha256').update(`${username}:${realm}:secret`).digest('hex'),
    ...change,
  };
}
