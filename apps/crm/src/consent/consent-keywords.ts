/** Carrier-style keywords (CTIA / Twilio defaults), matched on the whole trimmed message. */
const STOP = new Set(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT']);
const START = new Set(['START', 'UNSTOP', 'YES']);

export function consentKeyword(text: string | undefined): 'unsubscribed' | 'subscribed' | undefined {
  const word = text?.trim().replace(/[.!]+$/, '').toUpperCase();
  if (!word) return undefined;
  if (STOP.has(word)) return 'unsubscribed';
  if (START.has(word)) return 'subscribed';
  return undefined;
}
