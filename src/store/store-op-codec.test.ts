import { describe, expect, it } from 'vitest';
import { StoreOpEncoder, StoreOpReader, decodeStoreOps, encodeStoreOps } from './store-op-codec.js';
import { FAILURE_REASONS, type StoreOp } from './store.js';
import { bindingRecord, failureRecord, putBinding, registrationEvent } from './store-records.fixture.js';

/** The ops of one refresh as the registrar makes them: the event shares the binding's strings. */
function refresh(id: number): StoreOp[] {
  const put = putBinding(id, {}, 600) as Extract<StoreOp, { op: 'put-binding' }>;
  const b = put.binding;
  return [
    put,
    {
      op: 'event',
      event: registrationEvent({
        type: 'refreshed',
        aor: b.aor,
        contact: b.contact,
        bindingId: b.id,
        sourceAddress: b.sourceAddress,
        sourcePort: b.sourcePort,
        transport: b.transport,
        userAgent: b.userAgent,
      }),
    },
  ];
}

describe('store op codec', () => {
  it('round-trips every kind of op and every field, nulls included', () => {
    const ops: StoreOp[] = [
      putBinding(1),
      putBinding(2, {
        instance: '<urn:uuid:00000000-0000-1000-8000-000a95a0e128>',
        regId: 1,
        q: 0.5,
        userAgent: null,
        path: ['<sip:edge1.example.com;lr>', '<sip:edge2.example.com;lr>', '<sip:edge2.example.com;lr>'],
      }),
      { op: 'delete-binding', id: 2 ** 40 + 3 },
      { op: 'event', event: registrationEvent() },
      {
        op: 'event',
        event: {
          time: 5,
          type: 'auth-failed',
          aor: null,
          contact: null,
          bindingId: null,
          sourceAddress: '203.0.113.9',
          sourcePort: null,
          transport: null,
          userAgent: null,
          reason: 'wrong password',
        },
      },
    ];
    expect(decodeStoreOps(encodeStoreOps(ops))).toEqual(ops);
  });

  it('round-trips failed registrations, every reason and every nullable field, between other ops', () => {
    const ops: StoreOp[] = [
      putBinding(1),
      ...FAILURE_REASONS.map((reason, i): StoreOp => ({
        op: 'failure',
        failure: failureRecord({ time: 1_700_000_000_000 + i, reason, count: i + 1 }),
      })),
      {
        op: 'failure',
        failure: failureRecord({
          sourceAddress: '2001:db8::7',
          sourcePort: 65_535,
          transport: 'WSS',
          username: null,
          userAgent: null,
          detail: 'Authorization for realm other.example',
          count: 250_000,
        }),
      },
      { op: 'failure', failure: failureRecord({ username: 'jösé', userAgent: 'Téléphone ☎', detail: 'nonce 🚀 stale' }) },
      { op: 'event', event: registrationEvent({ type: 'auth-failed', reason: 'wrong password' }) },
      { op: 'failure', failure: failureRecord() },
    ];
    expect(decodeStoreOps(encodeStoreOps(ops))).toEqual(ops);
  });

  it('writes a flood of failures from one source in a few bytes each', () => {
    const flood: StoreOp[] = Array.from({ length: 100 }, (_, i) => ({
      op: 'failure',
      failure: failureRecord({ time: 1_700_000_000_000 + i * 1000, count: 40 + i }),
    }));
    const encoded = encodeStoreOps(flood);
    // time, reason, port and count; source, transport, username, User-Agent and detail repeat.
    expect(encoded.length / flood.length).toBeLessThan(50);
    expect(decodeStoreOps(encoded)).toEqual(flood);
  });

  it('fails on a failure reason it does not know', () => {
    expect(() =>
      new StoreOpEncoder().encode([{ op: 'failure', failure: failureRecord({ reason: 'bad-vibes' as 'malformed' }) }]),
    ).toThrow('unknown failure reason "bad-vibes"');
  });

  it('keeps non-ASCII text and message bytes exactly', () => {
    const bytes = Buffer.from([0x52, 0x45, 0x47, 0x00, 0xff, 0xfe, 0x80, 0x0d, 0x0a]);
    const ops: StoreOp[] = [
      {
        op: 'put-binding',
        binding: bindingRecord(7, {
          userAgent: 'Téléphone ☎ 1.0 🚀',
          contact: `sip:ünïcode@example.com;${'x'.repeat(100)}`,
        }),
        lastRequest: bytes,
        lastResponse: Buffer.alloc(0),
      },
      { op: 'event', event: registrationEvent({ reason: 'by José' }) },
    ];
    const [put, event] = decodeStoreOps(encodeStoreOps(ops));
    expect(put).toEqual(ops[0]);
    expect(event).toEqual(ops[1]);
  });

  it('writes a value repeated in the same slot once: an event after its binding costs a few bytes', () => {
    const alone = encodeStoreOps([refresh(1)[0]!]).length;
    const withEvent = encodeStoreOps(refresh(1)).length;
    // The event's AOR, contact, source, transport and User-Agent are the binding's.
    expect(withEvent - alone).toBeLessThan(60);
    const ops = [...refresh(1), ...refresh(2), ...refresh(3)];
    expect(decodeStoreOps(encodeStoreOps(ops))).toEqual(ops);
  });

  it('repeats a message shared by two bindings of one REGISTER, and reads it back for both', () => {
    const request = Buffer.from('REGISTER sip:example.com SIP/2.0\r\n\r\n');
    const response = Buffer.from('SIP/2.0 200 OK\r\n\r\n');
    const ops: StoreOp[] = [1, 2].map((id) => ({
      op: 'put-binding',
      binding: bindingRecord(id),
      lastRequest: request,
      lastResponse: response,
    }));
    const encoded = encodeStoreOps(ops);
    const copies = ops.map((op) => ({ ...op, lastRequest: Buffer.from(request), lastResponse: Buffer.from(response) }));
    expect(encodeStoreOps(copies).length - encoded.length).toBe(request.length + response.length);
    expect(decodeStoreOps(encoded)).toEqual(ops);
  });

  it('carries nulls where the record type forbids them, for the store to reject', () => {
    const broken = putBinding(2, { contact: null as unknown as string, cseq: null as unknown as number });
    const [decoded] = decodeStoreOps(encodeStoreOps([broken]));
    expect(decoded).toEqual(broken);
  });

  it('grows past its initial buffer and hands each batch its own transferable ArrayBuffer', () => {
    const encoder = new StoreOpEncoder();
    const ops: StoreOp[] = [];
    for (let id = 1; id <= 1000; id++) ops.push(putBinding(id, {}, 1024));
    const first = encoder.encode(ops);
    expect(first.length).toBeGreaterThan(2 * 1024 * 1000);
    const decoded = decodeStoreOps(Buffer.from(first.buffer, 0, first.length));
    expect(decoded.map((op) => (op.op === 'put-binding' ? op.binding.id : 0))).toEqual(ops.map((_, i) => i + 1));
    expect(decoded[999]).toEqual(ops[999]);
    // Not a slab of Node's shared pool: transferring detaches only this batch's memory.
    const moved = structuredClone(first.buffer, { transfer: [first.buffer] });
    expect(first.buffer.byteLength).toBe(0);
    encoder.recycle(first.buffer); // detached: ignored
    encoder.recycle(moved);
    const second = encoder.encode(ops.slice(0, 3));
    expect(second.buffer).toBe(moved); // the recycled buffer is reused
    expect(decodeStoreOps(Buffer.from(second.buffer, 0, second.length))).toEqual(ops.slice(0, 3));
  });

  it('fails on an op or event type it does not know, and on message that is not a Buffer', () => {
    const encoder = new StoreOpEncoder();
    expect(() => encoder.encode([{ op: 'frobnicate' } as unknown as StoreOp])).toThrow('unknown store op "frobnicate"');
    expect(() =>
      encoder.encode([{ op: 'event', event: registrationEvent({ type: 'teleported' as 'registered' }) }]),
    ).toThrow('unknown event type "teleported"');
    expect(() =>
      encoder.encode([{ ...putBinding(1), lastRequest: 'REGISTER' as unknown as Buffer } as StoreOp]),
    ).toThrow(/must be Buffers, got string/);
    // Still usable afterwards.
    expect(decodeStoreOps(encodeStoreOps([putBinding(1)]))).toEqual([putBinding(1)]);
  });

  it('refuses bytes that are not a batch, and a batch cut short', () => {
    expect(() => new StoreOpReader(Buffer.from([0x7b, 0x7d]))).toThrow(/not a store op batch/);
    const encoded = encodeStoreOps([putBinding(1, {}, 200)]);
    const reader = new StoreOpReader(encoded.subarray(0, encoded.length - 100));
    expect(() => reader.next()).toThrow(/corrupt store op batch/);
  });

  it('reads a batch op by op, reusing one object per kind', () => {
    const reader = new StoreOpReader(
      encodeStoreOps([
        ...refresh(1),
        { op: 'failure', failure: failureRecord({ reason: 'rate-limited', count: 12 }) },
        ...refresh(2),
      ]),
    );
    const seen: string[] = [];
    let firstPut: StoreOp | null = null;
    for (let op = reader.next(); op !== null; op = reader.next()) {
      if (op.op === 'put-binding') {
        firstPut ??= op;
        expect(op).toBe(firstPut);
        seen.push(`put ${op.binding.id} ${op.lastRequest.toString('latin1', 0, 8)}`);
      } else if (op.op === 'event') {
        seen.push(`event ${op.event.type} ${op.event.bindingId} ${op.event.aor}`);
      } else if (op.op === 'failure') {
        seen.push(`failure ${op.failure.reason} ${op.failure.sourceAddress} x${op.failure.count}`);
      }
    }
    expect(seen).toEqual([
      'put 1 REGISTER',
      'event refreshed 1 sip:1001@example.com',
      'failure rate-limited 203.0.113.9 x12',
      'put 2 REGISTER',
      'event refreshed 2 sip:1002@example.com',
    ]);
  });
});
