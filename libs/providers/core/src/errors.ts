/**
 * A failed send. `permanent` errors (vendor 4xx: bad number, bad credentials, policy refusal) are
 * never retried and are recorded with the vendor's reason; transient ones (5xx, 429, timeouts,
 * connection errors) are retried with backoff, then the fallback provider is tried.
 */
export class ProviderError extends Error {
  constructor(
    readonly kind: 'permanent' | 'transient',
    /** The vendor's own reason text, or ours for refusals before any call. */
    readonly reason: string,
    readonly details: { status?: number; vendorCode?: string | number } = {},
  ) {
    super(`${kind} provider error: ${reason}`);
    this.name = 'ProviderError';
  }

  get retryable(): boolean {
    return this.kind === 'transient';
  }
}

/** Turns anything thrown during a send into a ProviderError (unknown errors count as transient). */
export function asProviderError(error: unknown): ProviderError {
  if (error instanceof ProviderError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ProviderError('transient', message);
}

/** HTTP status -> retryability: 408, 425 and 429 are the 4xx that a later try can fix. */
export function kindOfStatus(status: number): 'permanent' | 'transient' {
  return status >= 500 || status === 408 || status === 425 || status === 429 ? 'transient' : 'permanent';
}
