import Handlebars from 'handlebars';

/**
 * Rendering: one shared, safe Handlebars environment (`Handlebars.create()`, helpers registered
 * once, prototype access off as in 4.7's defaults). Workspace partials and layouts are passed per
 * render (runtime `partials` option), so workspaces never see each other's. Templates compile once
 * per immutable version and are cached.
 *
 * Missing variables: a template declares `requiredVariables` (dotted paths such as
 * `contact.firstName`); a render without one fails with a RenderError naming it. Everything else
 * is optional and renders empty unless given a fallback with `{{default x "friend"}}`.
 * (Handlebars' own `strict: true` was not chosen: it also throws inside `{{#if}}` on an absent
 * optional field, which makes conditionals on optional attributes impossible.)
 */
export class RenderError extends Error {
  constructor(
    message: string,
    readonly missing: string[] = [],
  ) {
    super(message);
    this.name = 'RenderError';
  }
}

export type ChannelContent =
  | { channel: 'email'; subject: string; html?: string; text?: string }
  | { channel: 'sms'; body: string }
  | { channel: 'whatsapp'; text?: string; templateName?: string; language?: string; parameters?: string[]; buttons?: { id: string; title: string }[] }
  | { channel: 'push'; title: string; body: string; data?: Record<string, string> }
  | { channel: 'webhook'; payload: string };

/** `locales.default` is required; others are keyed by BCP 47 tag (`pt-BR`, `pt`). */
export interface TemplateContent {
  locales: Record<string, Record<string, unknown>>;
}

type Env = typeof Handlebars;

function ctx(options: Handlebars.HelperOptions): { timezone?: string; locale?: string } {
  const contact = (options.data?.root as { contact?: { timezone?: string; locale?: string } } | undefined)?.contact;
  return { timezone: contact?.timezone ?? undefined, locale: contact?.locale ?? undefined };
}

const isOptions = (v: unknown): v is Handlebars.HelperOptions => typeof v === 'object' && v !== null && 'hash' in v && 'data' in v;

/** Documented helpers (docs/messaging-templates in the report):
 *  formatDate value [style]            date in the contact's timezone and locale (Intl); style: short|medium|long|full
 *  formatNumber value [digits]         number in the contact's locale
 *  formatCurrency value currency       e.g. {{formatCurrency order.total "EUR"}}
 *  default value fallback              fallback when value is null/undefined/""
 *  eq a b / ne a b / gt a b / lt a b   comparisons for {{#if (eq contact.attributes.tier "vip")}}
 *  link url text                       an <a> with both parts escaped (tracked like any link in HTML email)
 */
function registerHelpers(env: Env): void {
  env.registerHelper('formatDate', (value: unknown, style: unknown, options?: unknown) => {
    const opts = (isOptions(style) ? style : options) as Handlebars.HelperOptions;
    const dateStyle = (typeof style === 'string' ? style : 'medium') as Intl.DateTimeFormatOptions['dateStyle'];
    const date = value instanceof Date ? value : new Date(String(value));
    if (Number.isNaN(date.getTime())) return '';
    const { timezone, locale } = ctx(opts);
    try {
      return new Intl.DateTimeFormat(locale ?? 'en', { dateStyle, timeZone: timezone ?? 'UTC' }).format(date);
    } catch {
      return new Intl.DateTimeFormat('en', { dateStyle, timeZone: 'UTC' }).format(date);
    }
  });
  env.registerHelper('formatNumber', (value: unknown, digits: unknown, options?: unknown) => {
    const opts = (isOptions(digits) ? digits : options) as Handlebars.HelperOptions;
    const n = Number(value);
    if (!Number.isFinite(n)) return '';
    const max = typeof digits === 'number' ? digits : undefined;
    return new Intl.NumberFormat(ctx(opts).locale ?? 'en', max === undefined ? {} : { maximumFractionDigits: max, minimumFractionDigits: max }).format(n);
  });
  env.registerHelper('formatCurrency', (value: unknown, currency: unknown, options: Handlebars.HelperOptions) => {
    const n = Number(value);
    if (!Number.isFinite(n) || typeof currency !== 'string') return '';
    return new Intl.NumberFormat(ctx(options).locale ?? 'en', { style: 'currency', currency }).format(n);
  });
  env.registerHelper('default', (value: unknown, fallback: unknown) => (value === undefined || value === null || value === '' ? fallback : value));
  env.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  env.registerHelper('ne', (a: unknown, b: unknown) => a !== b);
  env.registerHelper('gt', (a: unknown, b: unknown) => Number(a) > Number(b));
  env.registerHelper('lt', (a: unknown, b: unknown) => Number(a) < Number(b));
  env.registerHelper('link', (url: unknown, text: unknown) => {
    const href = String(url ?? '');
    if (!/^(https?:|mailto:)/i.test(href)) return '';
    return new env.SafeString(`<a href="${env.escapeExpression(href)}">${env.escapeExpression(String(isOptions(text) ? href : text))}</a>`);
  });
}

type Compiled = Handlebars.TemplateDelegate;

/**
 * One environment per (workspace, partials version): helpers and that workspace's partials are
 * registered once, so a render passes no runtime partials (which Handlebars would merge on every
 * call) and one workspace never sees another's partials. Compiled templates live in their
 * environment, keyed by immutable template version and part.
 */
interface Environment {
  env: Env;
  templates: Map<string, Compiled>;
}
const environments = new Map<string, Environment>();
const MAX_ENVIRONMENTS = 1_000;
const MAX_TEMPLATES = 10_000;
const syntaxEnv = Handlebars.create();

function environment(key: string, partials: Record<string, string>): Environment {
  let entry = environments.get(key);
  if (!entry) {
    const env = Handlebars.create();
    registerHelpers(env);
    for (const [name, source] of Object.entries(partials)) {
      const problem = syntaxError(source);
      if (problem) throw new RenderError(`Template syntax error in partial ${name}: ${problem}`);
      env.registerPartial(name, env.compile(source));
    }
    if (environments.size >= MAX_ENVIRONMENTS) environments.delete(environments.keys().next().value as string);
    entry = { env, templates: new Map() };
    environments.set(key, entry);
  }
  return entry;
}

/** Compiles once per key (template version + locale + part) in its environment; the cache is bounded. */
function compileCached(entry: Environment, key: string, source: string): Compiled {
  let fn = entry.templates.get(key);
  if (!fn) {
    const problem = syntaxError(source);
    if (problem) throw new RenderError(`Template syntax error in ${key.split('|').pop()}: ${problem}`);
    fn = entry.env.compile(source, { noEscape: false, strict: false });
    if (entry.templates.size >= MAX_TEMPLATES) entry.templates.delete(entry.templates.keys().next().value as string);
    entry.templates.set(key, fn);
  }
  return fn;
}

/** Picks `pt-BR`, then `pt`, then `default`. */
export function pickLocale(content: TemplateContent, locale?: string | null): { locale: string; parts: Record<string, unknown> } {
  const candidates = locale ? [locale, locale.split('-')[0]!] : [];
  for (const c of candidates) {
    const key = Object.keys(content.locales).find((k) => k.toLowerCase() === c.toLowerCase());
    if (key) return { locale: key, parts: content.locales[key]! };
  }
  const parts = content.locales.default;
  if (!parts) throw new RenderError('Template has no default locale');
  return { locale: 'default', parts };
}

export function missingVariables(required: readonly string[], data: Record<string, unknown>): string[] {
  return required.filter((path) => {
    let v: unknown = data;
    for (const part of path.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
    return v === undefined || v === null || v === '';
  });
}

export interface RenderInput {
  /** Cache key of the immutable version, e.g. `<versionId>` (drafts use their updatedAt). */
  cacheKey: string;
  channel: ChannelContent['channel'];
  content: TemplateContent;
  requiredVariables: readonly string[];
  data: Record<string, unknown>;
  locale?: string | null;
  partials?: Record<string, string>;
  partialsKey?: string;
}

const PARTS: Record<ChannelContent['channel'], readonly string[]> = {
  email: ['subject', 'html', 'text'],
  sms: ['body'],
  whatsapp: ['text', 'templateName', 'language'],
  push: ['title', 'body'],
  webhook: ['payload'],
};

/** Renders every part of a channel's content for one recipient. */
export function render(input: RenderInput): ChannelContent & { locale: string } {
  const missing = missingVariables(input.requiredVariables, input.data);
  if (missing.length) throw new RenderError(`Missing required variables: ${missing.join(', ')}`, missing);
  const { locale, parts } = pickLocale(input.content, input.locale);
  const entry = environment(input.partialsKey ?? '', input.partials ?? {});
  const run = (name: string, source: unknown): string | undefined => {
    if (typeof source !== 'string') return undefined;
    try {
      return compileCached(entry, `${input.cacheKey}|${locale}|${name}`, source)(input.data);
    } catch (error) {
      if (error instanceof RenderError) throw error;
      throw new RenderError(`Render of ${name} failed: ${(error as Error).message}`);
    }
  };
  const out: Record<string, unknown> = { channel: input.channel, locale };
  for (const name of PARTS[input.channel]) {
    const value = run(name, parts[name]);
    if (value !== undefined) out[name] = value;
  }
  if (input.channel === 'whatsapp') {
    if (Array.isArray(parts.parameters)) out.parameters = (parts.parameters as unknown[]).map((p, i) => run(`parameters.${i}`, p) ?? '');
    if (Array.isArray(parts.buttons)) out.buttons = parts.buttons;
  }
  if (input.channel === 'push' && parts.data && typeof parts.data === 'object') {
    out.data = Object.fromEntries(Object.entries(parts.data as Record<string, unknown>).map(([k, v]) => [k, run(`data.${k}`, v) ?? '']));
  }
  if (input.channel === 'email' && !out.subject) throw new RenderError('Email template has no subject');
  return out as ChannelContent & { locale: string };
}


/** A syntax error message for a template source, or undefined when it parses. */
export function syntaxError(source: string): string | undefined {
  try {
    syntaxEnv.parse(source);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
