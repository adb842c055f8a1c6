import { describe, expect, it } from 'vitest';
import { literalFirstLookup } from './udp-listener.js';

describe('literalFirstLookup', () => {
  it('answers an IP literal at once, with its family', () => {
    const seen: Array<[string, number]> = [];
    literalFirstLookup('192.0.2.7', {}, (err, address, family) => {
      expect(err).toBeNull();
      seen.push([address, family]);
    });
    literalFirstLookup('2001:db8::1', {}, (_err, address, family) => seen.push([address, family]));
    expect(seen).toEqual([
      ['192.0.2.7', 4],
      ['2001:db8::1', 6],
    ]);
  });

  it('hands a name to the resolver', async () => {
    const { address, family } = await new Promise<{ address: string; family: number }>((resolve, reject) =>
      literalFirstLookup('localhost', { family: 4 }, (err, address, family) => (err ? reject(err) : resolve({ address, family }))),
    );
    expect(family).toBe(4);
    expect(address).toMatch(/^127\./);
  });
});
