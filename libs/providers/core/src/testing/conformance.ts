import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProviderError } from '../errors';
import type { ChannelMessages, ProviderChannel } from '../ports';
import { validateProviderOptions, type ChannelProvider, type ProviderDefinition } from '../provider';
import { sendWithRetry } from '../retry';
import type { VendorHarness } from './fake-http';

export interface ConformanceSubject<C extends ProviderChannel, O extends object> {
  definition: ProviderDefinition<C, O>;
  /** Starts the local fake of the vendor. */
  startVendor(): Promise<VendorHarness>;
  /** Raw options pointing at the fake; `wrongCredentials` gives ones the vendor refuses. */
  options(vendor: VendorHarness, overrides?: { timeoutMs?: number; wrongCredentials?: boolean }): Record<string, unknown>;
  /** Options the schema must refuse, with the path of the field at fault. */
  invalidOptions: { options: Record<string, unknown>; path: string }[];
  /** A valid message to recipient number `n`. */
  message(n: number, idempotencyKey: string): ChannelMessages[C];
  recipientOf(message: ChannelMessages[C]): string;
  /** Whether the vendor receives the idempotency key (header or id) on the wire. */
  carriesIdempotencyKey: boolean;
  /** The vendor's own reason text for the request the fake rejects (4xx / 5xx permanent). */
  rejectReason: RegExp;
}

const FAST_RETRY = { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 };

/**
 * The one conformance suite of a port: every provider runs it from its own *.int-spec.ts against a
 * local fake that speaks the vendor's real wire format.
 */
export function providerConformanceSuite<C extends ProviderChannel, O extends object>(subject: ConformanceSubject<C, O>): void {
  const { definition } = subject;

  describe(`provider conformance: ${definition.channel}/${definition.id}`, () => {
    let vendor: VendorHarness;
    let provider: ChannelProvider<C>;
    const make = (overrides?: { timeoutMs?: number; wrongCredentials?: boolean }): ChannelProvider<C> => {
      const validated = validateProviderOptions(definition, subject.options(vendor, overrides));
      if (!validated.ok) throw new Error(`options refused: ${JSON.stringify(validated.problems)}`);
      return definition.create(validated.options);
    };

    beforeAll(async () => {
      vendor = await subject.startVendor();
      provider = make();
    });
    afterAll(async () => {
      await provider?.close();
      await vendor?.close();
    });

    it('declares an id, a channel and an options schema that accepts valid options', () => {
      expect(definition.id).toMatch(/^[a-z0-9][a-z0-9_-]*$/);
      expect(provider.channel).toBe(definition.channel);
      expect(validateProviderOptions(definition, subject.options(vendor)).ok).toBe(true);
    });

    it('refuses invalid options with the path of the field at fault', () => {
      for (const bad of subject.invalidOptions) {
        const result = validateProviderOptions(definition, bad.options);
        expect(result.ok, JSON.stringify(bad.options)).toBe(false);
        if (!result.ok) expect(result.problems.map((p) => p.path)).toContain(bad.path);
      }
      expect(validateProviderOptions(definition, { ...subject.options(vendor), notAnOption: 1 }).ok).toBe(false);
    });

    it('delivers a message in the vendor wire format and returns the vendor message id', async () => {
      const message = subject.message(1, 'idem-conformance-1');
      const result = await provider.send(message);
      expect(typeof result.providerMessageId).toBe('string');
      expect(result.providerMessageId.length).toBeGreaterThan(0);
      const got = vendor.received.find((r) => r.providerMessageId === result.providerMessageId);
      expect(got?.to).toBe(subject.recipientOf(message));
      if (subject.carriesIdempotencyKey) expect(got?.idempotencyKey).toBe('idem-conformance-1');
    });

    it('gives each message its own vendor id', async () => {
      const a = await provider.send(subject.message(2, 'idem-conformance-2'));
      const b = await provider.send(subject.message(3, 'idem-conformance-3'));
      expect(a.providerMessageId).not.toBe(b.providerMessageId);
    });

    it('treats a vendor rejection as permanent: not retried, recorded with the vendor reason', async () => {
      vendor.failNext('reject');
      const before = vendor.attempts;
      const outcome = await sendWithRetry(provider, subject.message(4, 'idem-conformance-4'), FAST_RETRY);
      expect(outcome.ok).toBe(false);
      if (!outcome.ok) {
        expect(outcome.error.kind).toBe('permanent');
        expect(outcome.error.reason).toMatch(subject.rejectReason);
      }
      expect(outcome.attempts).toBe(1);
      expect(vendor.attempts - before).toBe(1);
    });

    it('refuses wrong credentials as a permanent error', async () => {
      const wrong = make({ wrongCredentials: true });
      try {
        const error = await wrong.send(subject.message(5, 'idem-conformance-5')).then(() => undefined, (e: unknown) => e);
        expect(error).toBeInstanceOf(ProviderError);
        expect((error as ProviderError).kind).toBe('permanent');
      } finally {
        await wrong.close();
      }
    });

    it('retries vendor unavailability (5xx) with backoff and then succeeds', async () => {
      vendor.failNext('unavailable', 2);
      const before = vendor.attempts;
      const outcome = await sendWithRetry(provider, subject.message(6, 'idem-conformance-6'), FAST_RETRY);
      expect(outcome.ok).toBe(true);
      expect(outcome.attempts).toBe(3);
      expect(vendor.attempts - before).toBe(3);
    });

    it('turns a vendor that never answers into a transient (retryable) timeout', async () => {
      const impatient = make({ timeoutMs: 300 });
      try {
        vendor.failNext('timeout');
        const error = await impatient.send(subject.message(7, 'idem-conformance-7')).then(() => undefined, (e: unknown) => e);
        expect(error).toBeInstanceOf(ProviderError);
        expect((error as ProviderError).kind).toBe('transient');
      } finally {
        await impatient.close();
      }
    });
  });
}
