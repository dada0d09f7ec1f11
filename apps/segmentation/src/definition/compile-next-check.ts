import { CONTACT_TZ, SqlBuilder, anniversaryOf, eventRows, localToday, messageRows } from './compile-definition';
import type { Duration, SegmentDefinition, SegmentNode, ValueFilter } from './definition.types';
import type { SegmentResolver } from './validate-definition';

/**
 * The earliest instant after `now` at which time alone may change a contact's membership: the
 * minimum over the definition's time-dependent leaves of the next instant each leaf can flip (an
 * event leaving or entering a window, a date attribute crossing its bound, local midnight on an
 * anniversary). Taking the minimum over all leaves, whatever the boolean structure, never misses a
 * change; at worst it wakes for a flip that does not change the outcome. NULL = never from time alone.
 */
export function compileNextCheckExpr(b: SqlBuilder, node: SegmentNode): string | null {
  const parts: string[] = [];
  const add = (s: string | null): void => void (s && parts.push(s));
  const future = (rows: string, col: string): string => `(SELECT min(${col}) ${rows} AND ${col} > ${b.now})`;
  const walk = (n: SegmentNode): void => {
    switch (n.type) {
      case 'and':
      case 'or':
        return n.children.forEach(walk);
      case 'not':
        return walk(n.child);
      case 'attribute':
        if (n.valueType === 'date' && ['within_last', 'more_than_ago', 'anniversary_today'].includes(n.operator))
          add(attributeFlip(b, `(c.attrs #> ${b.param(n.attribute.split('.'), 'text[]')})`, n));
        return;
      case 'event': {
        const rows = eventRows(b, n.event, n.where);
        add(future(rows, 'e.occurred_at')); // a future-dated event enters every window when its time comes
        if (n.window?.last) {
          const w = b.interval(n.window.last);
          add(`(SELECT min(e.occurred_at) + ${w} ${rows} AND e.occurred_at <= ${b.now} AND e.occurred_at > ${b.now} - ${w})`);
        }
        return;
      }
      case 'event_time': {
        const rows = eventRows(b, n.event, n.where);
        add(future(rows, 'e.occurred_at'));
        if (n.operator === 'within_last' || n.operator === 'more_than_ago') {
          const w = b.interval(n.value as Duration);
          const at = `(SELECT ${n.which === 'first' ? 'min' : 'max'}(e.occurred_at) ${rows} AND e.occurred_at <= ${b.now})`;
          add(`(CASE WHEN ${at} + ${w} > ${b.now} THEN ${at} + ${w} END)`);
        }
        return;
      }
      case 'message': {
        const rows = messageRows(b, n);
        add(future(rows, 'm.occurred_at'));
        if (n.window?.last) {
          const w = b.interval(n.window.last);
          add(`(SELECT min(m.occurred_at) + ${w} ${rows} AND m.occurred_at <= ${b.now} AND m.occurred_at > ${b.now} - ${w})`);
        }
        return;
      }
      case 'segment':
        return walk(b.resolveSegment(n.segmentId).root);
      default:
        return; // tags, lists, consent, objects: change only with data, never with time
    }
  };
  walk(node);
  return parts.length ? `LEAST(${parts.join(', ')})` : null;
}

function attributeFlip(b: SqlBuilder, v: string, f: ValueFilter): string | null {
  if (f.valueType !== 'date') return null;
  const ts = `segmentation.try_ts(${v} #>> '{}')`;
  const later = (x: string): string => `(CASE WHEN ${x} > ${b.now} THEN ${x} END)`;
  switch (f.operator) {
    case 'within_last': {
      const w = b.interval(f.value as Duration);
      return `LEAST(${later(ts)}, ${later(`${ts} + ${w}`)})`;
    }
    case 'more_than_ago':
      return later(`${ts} + ${b.interval(f.value as Duration)}`);
    case 'anniversary_today': {
      // Local midnight at the start of the next anniversary, or at the end of today's.
      const today = localToday(b, CONTACT_TZ);
      const thisYear = anniversaryOf(v, CONTACT_TZ, 0);
      const nextYear = anniversaryOf(v, CONTACT_TZ, 1);
      const day = `(CASE WHEN ${thisYear} = ${today} THEN ${today} + 1 WHEN ${thisYear} > ${today} THEN ${thisYear} ELSE ${nextYear} END)`;
      return `((${day})::timestamp AT TIME ZONE ${CONTACT_TZ})`;
    }
    default:
      return null; // fixed bounds: a stored date does not cross them by itself
  }
}

/** Whether membership can change with time alone (so the segment needs next-check rows). */
export function isTimeBased(def: SegmentDefinition, resolve: SegmentResolver): boolean {
  return compileNextCheckExpr(new SqlBuilder('00000000-0000-0000-0000-000000000000', new Date(0), resolve), def.root) !== null;
}

/** The next-check query on a caller's builder (see membershipSelect); null when time alone never changes membership. */
export function nextCheckSelect(b: SqlBuilder, def: SegmentDefinition, restrict: string): string | null {
  const expr = compileNextCheckExpr(b, def.root);
  if (!expr) return null;
  return `SELECT contact_id, next_check_at FROM (SELECT c.id AS contact_id, ${expr} AS next_check_at FROM segmentation.contact c WHERE c.workspace_id = $1::uuid${restrict}) s WHERE next_check_at IS NOT NULL`;
}
