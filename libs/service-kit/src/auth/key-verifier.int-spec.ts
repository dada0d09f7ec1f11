import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { API_KEY_REVOKED_V1, DEFAULT_WORKSPACE_ID, VERIFY_API_KEY_V1 } from '@tessera/contracts';
import { buildEnvelope, JetStreamBus } from '@tessera/bus';
import { createLogger } from '@tessera/observability';
import { testBusNamespace, TEST_NATS_URL } from '@tessera/testing';
import { BusKeyVerifier } from './key-verifier';

const logger = createLogger({ service: 'key-verifier-test', level: 'silent' });
const KEY = 'a'.repeat(64);
const KEY_ID = '00000000-0000-4000-8000-00000000000a';

describe('BusKeyVerifier', () => {
  const ns = testBusNamespace('keyverifier');
  const crm = new JetStreamBus({ service: 'crm', servers: TEST_NATS_URL, namespace: ns.namespace, logger });
  const caller = new JetStreamBus({ service: 'caller', servers: TEST_NATS_URL, namespace: ns.namespace, logger });
  let asked = 0;
  /** How long the CRM takes to answer, so tests can act while a question is in flight. */
  let answerDelayMs = 50;
  let valid = true;

  beforeAll(async () => {
    await Promise.all([crm.connect(), caller.connect()]);
    await crm.serve(VERIFY_API_KEY_V1.subject, async () => {
      asked++;
      const validWhenAsked = valid; // read from the key table, then the answer travels back
      await new Promise((r) => setTimeout(r, answerDelayMs));
      return validWhenAsked ? { valid: true, keyId: KEY_ID, workspaceId: DEFAULT_WORKSPACE_ID, scopes: ['crm:read'] } : { valid: false };
    });
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  afterAll(async () => {
    await Promise.all([crm.close(), caller.close()]);
    await ns.cleanup();
  });

  const newVerifier = (): BusKeyVerifier => {
    const verifier = new BusKeyVerifier(caller);
    verifier.onModuleInit();
    return verifier;
  };
  const until = async (check: () => boolean): Promise<void> => {
    for (const start = Date.now(); !check(); await new Promise((r) => setTimeout(r, 10))) if (Date.now() - start > 5_000) throw new Error('timed out');
  };

  it('asks once for many concurrent callers, and refreshes a key in use before its answer expires', async () => {
    const verifier = newVerifier();
    asked = 0;
    const answers = await Promise.all(Array.from({ length: 100 }, () => verifier.verify(KEY)));
    expect(asked).toBe(1);
    expect(new Set(answers.map((a) => a?.workspaceId))).toEqual(new Set([DEFAULT_WORKSPACE_ID]));

    // Only the clock moves: the answer is 4.5 s old, valid for 0.5 s more.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 4_500 });
    const during = await Promise.all(Array.from({ length: 50 }, () => verifier.verify(KEY)));
    expect(during.every((a) => a?.keyId === KEY_ID)).toBe(true); // answered from the cache, not held back
    await until(() => asked === 2); // one refresh for the 50
    await new Promise((r) => setTimeout(r, answerDelayMs + 50));
    vi.setSystemTime(Date.now() + 4_000); // past the first answer's expiry, within the refreshed one's
    await verifier.verify(KEY);
    expect(asked).toBe(2);
  });

  it('does not cache an answer that was asked for before a revocation', async () => {
    const verifier = newVerifier();
    asked = 0;
    answerDelayMs = 300;
    try {
      const inFlight = verifier.verify(KEY);
      await until(() => asked === 1);
      valid = false;
      caller.connection().publish(`${ns.namespace}.${API_KEY_REVOKED_V1.subject}`, JSON.stringify(buildEnvelope('crm', API_KEY_REVOKED_V1.subject, { keyId: KEY_ID, keyHash: KEY }, { workspaceId: DEFAULT_WORKSPACE_ID })));
      await caller.connection().flush();
      expect((await inFlight)?.keyId).toBe(KEY_ID); // asked before the revocation
      expect(await verifier.verify(KEY)).toBeNull(); // asked again, not served the stale answer
      expect(asked).toBe(2);
    } finally {
      answerDelayMs = 50;
      valid = true;
    }
  });
});
