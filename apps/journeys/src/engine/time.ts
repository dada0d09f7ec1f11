/** Time-zone arithmetic on Intl (no dependency): local wall-clock parts and local-to-UTC conversion. */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', weekday: 'short' });
    formatters.set(tz, f);
  }
  return f;
}

export interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** 0 = Sunday. */
  weekday: number;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** True when `tz` is an IANA zone this runtime knows. */
export function isValidTimeZone(tz: unknown): boolean {
  if (typeof tz !== 'string' || !tz) return false;
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

/** The wall-clock parts of `at` in `tz` (UTC when the zone is unknown). */
export function localParts(at: Date, tz: string): LocalParts {
  const zone = isValidTimeZone(tz) ? tz : 'UTC';
  const parts: Record<string, string> = {};
  for (const p of formatter(zone).formatToParts(at)) parts[p.type] = p.value;
  return { year: +parts.year!, month: +parts.month!, day: +parts.day!, hour: +parts.hour!, minute: +parts.minute!, second: +parts.second!, weekday: WEEKDAYS.indexOf(parts.weekday!) };
}

/** The instant at which the wall clock in `tz` shows the given local date and time. */
export function zonedToUtc(year: number, month: number, day: number, hour: number, minute: number, tz: string): Date {
  const wanted = Date.UTC(year, month - 1, day, hour, minute);
  let guess = wanted;
  // Two rounds settle the offset, including across a DST change.
  for (let i = 0; i < 2; i++) {
    const p = localParts(new Date(guess), tz);
    const shown = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
    guess += wanted - shown;
  }
  return new Date(guess);
}

/** Parses `HH:MM` into minutes after midnight; undefined when malformed. */
export function parseTimeOfDay(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text);
  return m ? Number(m[1]) * 60 + Number(m[2]) : undefined;
}

/** The next instant (strictly after `from` unless `inclusive`) when the local clock in `tz` shows `minutes`, on one of `weekdays` if given. */
export function nextLocalTime(from: Date, minutes: number, tz: string, weekdays?: number[], inclusive = false): Date {
  const p = localParts(from, tz);
  for (let add = 0; add < 9; add++) {
    const d = new Date(Date.UTC(p.year, p.month - 1, p.day + add));
    const candidate = zonedToUtc(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), Math.floor(minutes / 60), minutes % 60, tz);
    const ok = inclusive ? candidate.getTime() >= from.getTime() : candidate.getTime() > from.getTime();
    if (ok && (!weekdays?.length || weekdays.includes(localParts(candidate, tz).weekday))) return candidate;
  }
  return new Date(from.getTime() + 86_400_000);
}

/** Minutes after local midnight of `at` in `tz`. */
export function localMinutes(at: Date, tz: string): number {
  const p = localParts(at, tz);
  return p.hour * 60 + p.minute;
}

/** If `at` falls in the quiet window [start, end) (which may wrap midnight), when the window ends; else undefined. */
export function quietUntil(at: Date, tz: string, start: number, end: number): Date | undefined {
  const now = localMinutes(at, tz);
  const inside = start <= end ? now >= start && now < end : now >= start || now < end;
  return inside ? nextLocalTime(at, end, tz) : undefined;
}
