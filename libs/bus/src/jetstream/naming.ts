import { STREAMS, type StreamDefinition } from '@tessera/contracts';

/**
 * A namespace prefixes every subject and stream on the wire, so several installations or test
 * runs can share one NATS server without seeing each other's messages.
 */
export class BusNaming {
  constructor(readonly namespace: string = '') {}

  subject(subject: string): string {
    return this.namespace ? `${this.namespace}.${subject}` : subject;
  }

  stream(name: string): string {
    return this.namespace ? `${this.namespace}_${name}` : name;
  }

  /** The stream that stores a subject (the one whose `<token>.>` pattern covers it). */
  streamOf(subject: string): StreamDefinition {
    const token = subject.split('.')[0];
    const stream = STREAMS.find((s) => s.subjects.some((p) => p === `${token}.>`));
    if (!stream) throw new Error(`No stream stores subject ${subject}`);
    return stream;
  }

  /** Durable consumer name: `<service>-<subject with dots as underscores>` (NATS names cannot hold dots). */
  durable(service: string, subject: string): string {
    return `${service}-${subject.replace(/[.*>]/g, '_')}`;
  }
}
