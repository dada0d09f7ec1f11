/**
 * Thrown by a handler when retrying cannot help (the event refers to something that can never
 * exist, say). The bus dead-letters the event at once with this message as the reason.
 */
export class PermanentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentError';
  }
}

/** A request/reply call answered with an error. `code` is stable and meant for callers to branch on. */
export class RequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'RequestError';
  }
}
