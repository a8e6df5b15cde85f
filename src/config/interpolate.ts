import { isScalar, visit, type Document } from 'yaml';
import type { ConfigIssue } from './config-error.js';

const PLACEHOLDER = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every string scalar of the document, in place, so
 * positions of the YAML nodes stay valid for error messages. `$$` is a literal `$`.
 * A variable that is unset and has no default is an issue at that scalar's path.
 */
export function interpolateEnv(doc: Document, env: NodeJS.ProcessEnv): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  visit(doc, {
    Scalar(_key, node, path) {
      if (typeof node.value !== 'string' || !node.value.includes('$')) return;
      const missing: string[] = [];
      const replaced = node.value.replace(PLACEHOLDER, (whole, name: string | undefined, fallback: string | undefined) => {
        if (whole === '$$') return '$';
        const value = env[name!];
        if (value !== undefined && value !== '') return value;
        if (fallback !== undefined) return fallback;
        missing.push(name!);
        return '';
      });
      if (missing.length) {
        issues.push({
          path: yamlPath(path, node),
          message: `environment variable ${missing.map((m) => `\${${m}}`).join(', ')} is not set: export it, or write \${${missing[0]}:-default}`,
        });
      }
      // A value that came entirely from the environment is typed by its text (PORT=6379 → 6379),
      // like YAML would type it, so `port: ${PORT}` validates as a number.
      node.value = whole(node.value) ? coerce(replaced) : replaced;
    },
  });
  return issues;
}

function whole(text: string): boolean {
  return /^\$\{[^}]+\}$/.test(text);
}

function coerce(text: string): string | number | boolean {
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (text === 'true' || text === 'false') return text === 'true';
  return text;
}

/** The config path (keys and indexes) of a node visited by `yaml`'s visit(). */
function yamlPath(ancestors: readonly unknown[], node: unknown): (string | number)[] {
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
