import { isAlias, isCollection, isDocument, isPair, isScalar, type Alias, type Document, type Node } from 'yaml';

/**
 * How many nodes YAML aliases may add to a config once expanded. Ordinary use (shared delivery
 * options reused by a few hundred connectors) stays far below it; a "billion laughs" file
 * (nested aliases multiplying each other) crosses it within a few lines.
 * @defaultValue 10000
 */
export const MAX_ALIAS_NODES = 10_000;

export interface AliasProblem {
  /** The alias that crossed the budget or closed a cycle. */
  alias: Alias;
  message: string;
}

/** Unwinds the walk at the first problem. */
class Stop {
  constructor(readonly problem: AliasProblem) {}
}

/**
 * Counts, in one pass in document order, the nodes every alias expands to, and stops at the first
 * alias that takes the total past `limit` or refers to a node that contains it — before the
 * document is ever expanded. The yaml library's own `maxAliasCount` check throws without saying
 * where; this names the alias.
 */
export function aliasProblem(doc: Document, limit = MAX_ALIAS_NODES): AliasProblem | undefined {
  const anchors = new Map<string, Node>(); // anchor name → its latest definition so far
  const sizes = new Map<Node, number>(); // expanded size of each finished node
  const open = new Set<Node>(); // nodes being walked (an alias to one of them is a cycle)
  let added = 0;

  const walk = (node: unknown): number => {
    if (isAlias(node)) {
      const target = anchors.get(node.source);
      if (!target) return 1; // unresolved: the parser already reports it
      if (open.has(target))
        throw new Stop({ alias: node, message: `YAML alias *${node.source} refers to a node that contains it (a cycle): write the value out instead` });
      added += sizes.get(target) ?? 1;
      if (added > limit) {
        throw new Stop({
          alias: node,
          message: `YAML aliases expand to more than ${limit} nodes (an alias bomb?): write the repeated part out, or use fewer nested aliases`,
        });
      }
      return sizes.get(target) ?? 1;
    }
    if (isPair(node)) return walk(node.key) + walk(node.value);
    if (!isScalar(node) && !isCollection(node)) return 0;
    if (node.anchor) anchors.set(node.anchor, node);
    let size = 1;
    if (isCollection(node)) {
      open.add(node);
      for (const item of node.items) size += walk(item);
      open.delete(node);
    }
    sizes.set(node, size);
    return size;
  };

  try {
    if (isDocument(doc)) walk(doc.contents);
  } catch (err) {
    if (err instanceof Stop) return err.problem;
    throw err;
  }
  return undefined;
}
