import { isScalar } from 'yaml';

/** The config path (keys and indexes) of a node visited by `yaml`'s visit(). */
export function yamlPath(ancestors: readonly unknown[], node: unknown): (string | number)[] {
  const out: (string | number)[] = [];
  const chain = [...ancestors, node];
  for (let i = 0; i < chain.length - 1; i++) {
    const parent = chain[i] as { items?: unknown[]; key?: unknown };
    const child = chain[i + 1];
    if (parent && Array.isArray(parent.items)) {
      const idx = parent.items.indexOf(child);
      const item = parent.items[idx] as { key?: unknown } | undefined;
      // In a map the child is a Pair (its key is added when we step into it); in a seq the index is the path.
      if (idx >= 0 && !(item && typeof item === 'object' && 'key' in item)) out.push(idx);
    } else if (parent && 'key' in parent && child !== parent.key) {
      const key = parent.key;
      out.push(isScalar(key) ? String(key.value) : String(key));
    }
  }
  return out;
}
