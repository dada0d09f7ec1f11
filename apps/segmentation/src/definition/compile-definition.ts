import {
  durationMinutes,
  type Condition,
  type CountFilter,
  type Duration,
  type EventWindow,
  type PropertyFilter,
  type SegmentDefinition,
  type SegmentNode,
  type ValueFilter,
} from './definition.types';
import type { SegmentResolver } from './validate-definition';

/**
 * Compiles a validated definition to SQL over this service's projection (alias `c` = contact).
 * One compiler serves batch (all contacts of a workspace) and real-time (the same query restricted to
 * some contacts), so the two cannot disagree. `$1` = workspace id, `$2` = evaluation instant; the
 * optional restriction is `$3` (uuid[]).
 */
export class SqlBuilder {
  readonly params: unknown[];
  constructor(workspaceId: string, now: Date, private readonly resolve: SegmentResolver) {
    this.params = [workspaceId, now.toISOString()];
  }

  param(value: unknown, cast: string): string {
    this.params.push(value);
    return `$${this.params.length}::${cast}`;
  }

  readonly now = '$2::timestamptz';

  interval(d: Duration): string {
    return this.param(`${durationMinutes(d)} minutes`, 'interval');
  }

  resolveSegment(id: string): SegmentDefinition {
    const target = this.resolve(id);
    if (!target) throw new Error(`segment ${id} vanished`);
    return target;
  }
}

export function compileNode(b: SqlBuilder, node: SegmentNode): string {
  switch (node.type) {
    case 'and':
      return `(${node.children.map((n) => compileNode(b, n)).join(' AND ')})`;
    case 'or':
      return `(${node.children.map((n) => compileNode(b, n)).join(' OR ')})`;
    case 'not':
      return `(NOT ${compileNode(b, node.child)})`;
    default:
      return compileCondition(b, node);
  }
}

/** `jsonb #> path` for a dotted name. */
function jsonPath(b: SqlBuilder, column: string, name: string): string {
  return `(${column} #> ${b.param(name.split('.'), 'text[]')})`;
}

/** A typed comparison; a missing or differently typed value satisfies nothing but not_exists. */
export function compileFilter(b: SqlBuilder, v: string, f: ValueFilter, tz: string): string {
  const typed = f.valueType === 'date' ? `(jsonb_typeof(${v}) = 'string' AND segmentation.try_ts(${v} #>> '{}') IS NOT NULL)` : `(jsonb_typeof(${v}) = '${f.valueType}')`;
  const num = `(CASE WHEN jsonb_typeof(${v}) = 'number' THEN (${v})::numeric END)`;
  const ts = `segmentation.try_ts(${v} #>> '{}')`;
  const scalar = (x: unknown): string => (f.valueType === 'number' ? b.param(x, 'numeric') : f.valueType === 'date' ? b.param(x, 'timestamptz') : b.param(x, 'text'));
  const lhs = f.valueType === 'number' ? num : f.valueType === 'date' ? ts : `(${v} #>> '{}')`;
  switch (f.operator) {
    case 'exists':
      return typed;
    case 'not_exists':
      return `(NOT COALESCE(${typed}, false))`;
    case 'equals':
      return `COALESCE(${v} = ${b.param(JSON.stringify(f.value), 'jsonb')}, false)`;
    case 'not_equals':
      return `COALESCE(${typed} AND ${v} <> ${b.param(JSON.stringify(f.value), 'jsonb')}, false)`;
    case 'in':
      return `COALESCE(${typed} AND ${b.param(JSON.stringify(f.value), 'jsonb')} @> jsonb_build_array(${v}), false)`;
    case 'contains':
      return `COALESCE(${typed} AND strpos(${lhs}, ${scalar(f.value)}) > 0, false)`;
    case 'starts_with':
      return `COALESCE(${typed} AND starts_with(${lhs}, ${scalar(f.value)}), false)`;
    case 'gt':
      return `COALESCE(${lhs} > ${scalar(f.value)}, false)`;
    case 'gte':
      return `COALESCE(${lhs} >= ${scalar(f.value)}, false)`;
    case 'lt':
      return `COALESCE(${lhs} < ${scalar(f.value)}, false)`;
    case 'lte':
      return `COALESCE(${lhs} <= ${scalar(f.value)}, false)`;
    case 'between': {
      const [lo, hi] = f.value as [unknown, unknown];
      return `COALESCE(${lhs} BETWEEN ${scalar(lo)} AND ${scalar(hi)}, false)`;
    }
    case 'within_last':
      return `COALESCE(${ts} > ${b.now} - ${b.interval(f.value as Duration)} AND ${ts} <= ${b.now}, false)`;
    case 'more_than_ago':
      return `COALESCE(${ts} <= ${b.now} - ${b.interval(f.value as Duration)}, false)`;
    case 'anniversary_today':
      return `COALESCE(${anniversaryOf(v, tz, 0)} = ${localToday(b, tz)}, false)`;
    default:
      throw new Error(`unknown operator ${f.operator}`);
  }
}

export const CONTACT_TZ = `COALESCE(c.timezone, 'UTC')`;

export function localToday(b: SqlBuilder, tz: string): string {
  return `((${b.now} AT TIME ZONE ${tz})::date)`;
}

/** The date's anniversary in the year of today (+ yearOffset); 29 February falls on the 28th in other years. */
export function anniversaryOf(v: string, tz: string, yearOffset: number): string {
  const d = `segmentation.try_date(${v} #>> '{}')`;
  return `((${d} + make_interval(years => (extract(year from ($2::timestamptz AT TIME ZONE ${tz}))::int + ${yearOffset} - extract(year from ${d})::int)))::date)`;
}

function filters(b: SqlBuilder, column: string, list: PropertyFilter[] | undefined): string {
  return (list ?? []).map((f) => ` AND ${compileFilter(b, jsonPath(b, column, f.property), f, CONTACT_TZ)}`).join('');
}

/** The rows of an event/object/message condition for contact c (no count yet). */
export function windowSql(b: SqlBuilder, column: string, w: EventWindow | undefined): string {
  let sql = ` AND ${column} <= ${b.now}`;
  if (w?.last) sql += ` AND ${column} > ${b.now} - ${b.interval(w.last)}`;
  if (w?.from) sql += ` AND ${column} >= ${b.param(w.from, 'timestamptz')}`;
  if (w?.to) sql += ` AND ${column} <= ${b.param(w.to, 'timestamptz')}`;
  return sql;
}

function counted(from: string, count: CountFilter | undefined, performed: boolean | undefined): string {
  if (performed === false) return `(NOT EXISTS (SELECT 1 ${from}))`;
  const c = count ?? { operator: 'at_least', value: 1 };
  // at_least 0 is always true; the subquery stays so its parameters keep their types.
  if (c.operator === 'at_least' && c.value <= 1) return c.value === 0 ? `(EXISTS (SELECT 1 ${from}) OR true)` : `(EXISTS (SELECT 1 ${from}))`;
  if (c.operator === 'at_most' && c.value === 0) return `(NOT EXISTS (SELECT 1 ${from}))`;
  const op = c.operator === 'at_least' ? '>=' : c.operator === 'at_most' ? '<=' : '=';
  return `((SELECT count(*) ${from}) ${op} ${c.value})`;
}

export function eventRows(b: SqlBuilder, event: string, where: PropertyFilter[] | undefined): string {
  return `FROM segmentation.contact_event e WHERE e.contact_id = c.id AND e.name = ${b.param(event, 'text')}${filters(b, 'e.properties', where)}`;
}

export function messageRows(b: SqlBuilder, node: Extract<Condition, { type: 'message' }>): string {
  let sql = `FROM segmentation.message_engagement m WHERE m.contact_id = c.id AND m.action = ${b.param(node.action, 'text')}`;
  if (node.channel) sql += ` AND m.channel = ${b.param(node.channel, 'text')}`;
  if (node.templateId) sql += ` AND m.template_id = ${b.param(node.templateId, 'text')}`;
  return sql;
}

function compileCondition(b: SqlBuilder, node: Condition): string {
  switch (node.type) {
    case 'attribute':
      return compileFilter(b, jsonPath(b, 'c.attrs', node.attribute), node, CONTACT_TZ);
    case 'event':
      return counted(eventRows(b, node.event, node.where) + windowSql(b, 'e.occurred_at', node.window), node.count, node.performed);
    case 'event_time': {
      const at = `(SELECT ${node.which === 'first' ? 'min' : 'max'}(e.occurred_at) ${eventRows(b, node.event, node.where)} AND e.occurred_at <= ${b.now})`;
      const v = node.value;
      switch (node.operator) {
        case 'within_last':
          return `COALESCE(${at} > ${b.now} - ${b.interval(v as Duration)}, false)`;
        case 'more_than_ago':
          return `COALESCE(${at} <= ${b.now} - ${b.interval(v as Duration)}, false)`;
        case 'before':
          return `COALESCE(${at} < ${b.param(v, 'timestamptz')}, false)`;
        case 'after':
          return `COALESCE(${at} > ${b.param(v, 'timestamptz')}, false)`;
        default: {
          const [from, to] = v as [string, string];
          return `COALESCE(${at} BETWEEN ${b.param(from, 'timestamptz')} AND ${b.param(to, 'timestamptz')}, false)`;
        }
      }
    }
    case 'tag':
      return `(EXISTS (SELECT 1 FROM segmentation.contact_tag t WHERE t.contact_id = c.id AND t.tag = ${b.param(node.tag, 'text')}))`;
    case 'list':
      return `(EXISTS (SELECT 1 FROM segmentation.list_member l WHERE l.contact_id = c.id AND l.list_id = ${b.param(node.listId, 'text')}))`;
    case 'consent': {
      const state = `(SELECT k.state FROM segmentation.consent k WHERE k.contact_id = c.id AND k.channel = ${b.param(node.channel, 'text')} AND k.grp = ${b.param(node.group ?? '', 'text')})`;
      return `(COALESCE(${state}, 'never_asked') = ${b.param(node.state, 'text')})`;
    }
    case 'object':
      return counted(`FROM segmentation.custom_object o WHERE o.contact_id = c.id AND o.object_type = ${b.param(node.objectType, 'text')}${filters(b, 'o.properties', node.where)}`, node.count, undefined);
    case 'message':
      return counted(messageRows(b, node) + windowSql(b, 'm.occurred_at', node.window), undefined, node.performed);
    case 'segment':
      // Inlined (validated acyclic): always as fresh as the data, no cascade between stored memberships.
      return compileNode(b, b.resolveSegment(node.segmentId).root);
  }
}

export interface CompiledQuery {
  sql: string;
  params: unknown[];
}

/**
 * Members of a segment with the reason they match (and `at`, the evaluation instant, so $2 always has a type): for an `or` root, the first top-level branch that
 * matched (its index); otherwise "all". Restricting to some contacts adds one predicate on `c.id`.
 */
export function compileMembership(def: SegmentDefinition, workspaceId: string, now: Date, resolve: SegmentResolver, restrictTo?: string[]): CompiledQuery {
  const b = new SqlBuilder(workspaceId, now, resolve);
  const restrict = restrictTo ? ` AND c.id = ANY(${b.param(restrictTo, 'uuid[]')})` : '';
  return { sql: membershipSelect(b, def, restrict), params: b.params };
}

/** The members query on a caller's builder; `restrict` is extra SQL on contact `c` (e.g. ` AND c.id = ANY($3::uuid[])`). */
export function membershipSelect(b: SqlBuilder, def: SegmentDefinition, restrict: string): string {
  const root = def.root;
  if (root.type === 'or') {
    const branches = root.children.map((n, i) => `WHEN ${compileNode(b, n)} THEN ${i}`).join(' ');
    return `SELECT contact_id, branch, at FROM (SELECT c.id AS contact_id, CASE ${branches} END AS branch, $2::timestamptz AS at FROM segmentation.contact c WHERE c.workspace_id = $1::uuid${restrict}) s WHERE branch IS NOT NULL`;
  }
  return `SELECT c.id AS contact_id, NULL::int AS branch, $2::timestamptz AS at FROM segmentation.contact c WHERE c.workspace_id = $1::uuid${restrict} AND ${compileNode(b, root)}`;
}
