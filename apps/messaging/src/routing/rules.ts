import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min, validateSync, type ValidationError } from 'class-validator';

/**
 * Routing rules for inbound conversations, tried by priority (lowest first); the first match
 * assigns the queue, no match -> the default queue.
 *   keyword:        { keywords: ["refund", "invoice"] }  a whole word of the text, case-insensitive
 *   attribute:      { attribute: "tier", equals: "vip" }  a contact attribute (projection) equals a value
 *   business_hours: { timezone: "Europe/Berlin", days: [1..5], start: "09:00", end: "17:00", when: "outside" }
 *                   matches when the message arrives inside (default) or outside those hours
 *   button:         { payload: "talk_to_sales" }          the id/payload of the button the customer pressed
 */
export const RULE_KINDS = ['keyword', 'attribute', 'business_hours', 'button'] as const;
export type RuleKind = (typeof RULE_KINDS)[number];
export const DEFAULT_QUEUE = 'default';

export class KeywordCondition {
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(100) @IsString({ each: true }) @Length(1, 100, { each: true }) keywords!: string[];
}
export class AttributeCondition {
  @IsString() @Length(1, 100) attribute!: string;
  @IsOptional() equals?: string | number | boolean;
}
export class BusinessHoursCondition {
  @IsString() timezone!: string;
  @IsArray() @IsInt({ each: true }) @Min(1, { each: true }) @Max(7, { each: true }) days: number[] = [1, 2, 3, 4, 5];
  @Matches(/^([01]\d|2[0-3]):[0-5]\d$/) start!: string;
  @Matches(/^([01]\d|2[0-4]):[0-5]\d$/) end!: string;
  @IsOptional() @IsIn(['inside', 'outside']) when: 'inside' | 'outside' = 'inside';
}
export class ButtonCondition {
  @IsString() @Length(1, 1000) payload!: string;
}

const CONDITIONS = { keyword: KeywordCondition, attribute: AttributeCondition, business_hours: BusinessHoursCondition, button: ButtonCondition } as const;

/** Validates a rule's condition for its kind; returns field problems (empty when valid). */
export function conditionProblems(kind: RuleKind, raw: unknown): { path: string; messages: string[] }[] {
  const instance = plainToInstance(CONDITIONS[kind] as new () => object, raw ?? {}, { exposeDefaultValues: true });
  const errors = validateSync(instance, { whitelist: true, forbidNonWhitelisted: true });
  const problems = errors.map((e: ValidationError) => ({ path: `condition.${e.property}`, messages: Object.values(e.constraints ?? {}) }));
  if (kind === 'business_hours' && !problems.length) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: (raw as BusinessHoursCondition).timezone });
    } catch {
      problems.push({ path: 'condition.timezone', messages: ['must be an IANA time zone'] });
    }
  }
  return problems;
}

export interface RuleLike {
  id: string;
  kind: string;
  condition: unknown;
  queue: string;
}

export interface InboundFacts {
  text?: string;
  buttonPayload?: string;
  attributes?: Record<string, unknown>;
  receivedAt: Date;
}

function localTime(at: Date, timezone: string): { day: number; minutes: number } {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-US', { timeZone: timezone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(at).map((p) => [p.type, p.value]));
  const day = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(parts.weekday!) + 1;
  return { day, minutes: Number(parts.hour) * 60 + Number(parts.minute) };
}

const toMinutes = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function matches(rule: RuleLike, facts: InboundFacts): boolean {
  const c = rule.condition as Record<string, unknown>;
  switch (rule.kind) {
    case 'keyword':
      return !!facts.text && (c.keywords as string[]).some((k) => new RegExp(`(^|[^\\p{L}\\p{N}])${escape(k)}($|[^\\p{L}\\p{N}])`, 'iu').test(facts.text!));
    case 'attribute': {
      const value = facts.attributes?.[c.attribute as string];
      return c.equals === undefined ? value !== undefined && value !== null : value === c.equals || String(value) === String(c.equals);
    }
    case 'business_hours': {
      const { day, minutes } = localTime(facts.receivedAt, c.timezone as string);
      const inside = (c.days as number[] | undefined ?? [1, 2, 3, 4, 5]).includes(day) && minutes >= toMinutes(c.start as string) && minutes < toMinutes(c.end as string);
      return (c.when ?? 'inside') === 'inside' ? inside : !inside;
    }
    case 'button':
      return !!facts.buttonPayload && facts.buttonPayload === c.payload;
    default:
      return false;
  }
}

/** The first rule (in the given order) that matches, or undefined for the default queue. */
export function route<R extends RuleLike>(rules: readonly R[], facts: InboundFacts): R | undefined {
  return rules.find((r) => matches(r, facts));
}

/** STOP-type keywords. The CRM turns them into consent changes; messaging only records them. */
export function isOptOutKeyword(text: string | undefined): boolean {
  return !!text && /^\s*(stop|stopall|unsubscribe|cancel|end|quit|arret|arrêt|parar|baja)\s*[.!]?\s*$/i.test(text);
}
