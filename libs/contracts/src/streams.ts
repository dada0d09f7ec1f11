import { SERVICES, type ServiceName } from './define';

export interface StreamDefinition {
  name: string;
  subjects: string[];
  description: string;
  /** How long events are kept; consumers that fall further behind than this lose events. */
  maxAgeDays: number;
  /** JetStream's Nats-Msg-Id de-duplication window. */
  duplicateWindowMinutes: number;
}

/** One stream per producing service, so each service's events can be retained and scaled on their own. */
export const STREAMS: readonly StreamDefinition[] = [
  ...SERVICES.map((service: ServiceName) => ({
    name: service.toUpperCase(),
    subjects: [`${service}.>`],
    description: `Events produced by the ${service} service.`,
    maxAgeDays: 7,
    duplicateWindowMinutes: 10,
  })),
  {
    name: 'DLQ',
    subjects: ['dlq.>'],
    description: 'Dead letters: events a consumer could not process, with the reason in headers.',
    maxAgeDays: 30,
    duplicateWindowMinutes: 10,
  },
];

/** Dead-letter subject for an event a consumer gave up on. */
export function deadLetterSubject(consumer: string, subject: string): string {
  return `dlq.${consumer}.${subject}`;
}
