import { kindOfStatus, ProviderError } from './errors';

export interface VendorCall {
  url: string;
  method?: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}

export interface VendorResponse {
  status: number;
  json: unknown;
  text: string;
}

/**
 * One HTTP call to a vendor. Network errors and timeouts become transient ProviderErrors; a non-2xx
 * answer becomes a ProviderError with the reason `describe` extracts from the vendor's error body.
 */
export async function callVendor(call: VendorCall, describe: (response: VendorResponse) => { reason: string; code?: string | number }): Promise<VendorResponse> {
  let response: Response;
  try {
    response = await fetch(call.url, { method: call.method ?? 'POST', headers: call.headers, body: call.body, signal: AbortSignal.timeout(call.timeoutMs) });
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    throw new ProviderError('transient', timedOut ? `timeout after ${call.timeoutMs} ms` : `connection failed: ${(error as Error).message}`);
  }
  const text = await response.text().catch(() => '');
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  const result = { status: response.status, json, text };
  if (response.ok) return result;
  const { reason, code } = describe(result);
  throw new ProviderError(kindOfStatus(response.status), reason || `HTTP ${response.status}`, { status: response.status, vendorCode: code });
}

/** Joins a configured base URL and a path without doubling or losing the slash. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}
