import type { SegmentDefinition, SegmentNode } from './definition.types';
import type { SegmentResolver } from './validate-definition';

/**
 * What a definition reads, as index keys: `event:<name>`, `attr:<name>`, `consent`, `tag`, `list`,
 * `object:<type>`, `message`. A change to a contact re-evaluates only segments whose keys it touches.
 */
export function definitionDeps(def: SegmentDefinition, resolve: SegmentResolver): string[] {
  const deps = new Set<string>();
  const walk = (n: SegmentNode): void => {
    switch (n.type) {
      case 'and':
      case 'or':
        return n.children.forEach(walk);
      case 'not':
        return walk(n.child);
      case 'attribute':
        deps.add(`attr:${n.attribute.split('.')[0]}`);
        if (n.operator === 'anniversary_today') deps.add('attr:timezone');
        return;
      case 'event':
      case 'event_time':
        return void deps.add(`event:${n.event}`);
      case 'object':
        return void deps.add(`object:${n.objectType}`);
      case 'segment': {
        const target = resolve(n.segmentId);
        if (target) walk(target.root);
        return;
      }
      default:
        return void deps.add(n.type);
    }
  };
  walk(def.root);
  return [...deps].sort();
}

/** Segment ids a definition references directly. */
export function referencedSegments(def: SegmentDefinition): string[] {
  const ids: string[] = [];
  const walk = (n: SegmentNode): void => {
    if (n.type === 'and' || n.type === 'or') n.children.forEach(walk);
    else if (n.type === 'not') walk(n.child);
    else if (n.type === 'segment') ids.push(n.segmentId);
  };
  walk(def.root);
  return ids;
}
