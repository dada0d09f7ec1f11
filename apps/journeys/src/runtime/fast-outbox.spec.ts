import { describe, expect, it } from 'vitest';
import { v5 as uuidv5 } from 'uuid';
import { uuidV5In } from './fast-outbox';

const NS = '5f0c6c1e-2a3b-4c8d-9e7f-0a1b2c3d4e5f';

describe('uuidV5In', () => {
  it('gives the same ids as the uuid package, so ids stay stable across versions', () => {
    const fast = uuidV5In(NS);
    for (const name of ['message:abc', '', 'update:ünïcødé ✓ 😀', 'x'.repeat(300)]) expect(fast(name)).toBe(uuidv5(name, NS));
  });
});
