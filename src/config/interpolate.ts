import { Scalar, visit, type Document } from 'yaml';
import type { ConfigIssue } from '../core/config-error.js';
import { yamlPath } from './yaml-path.js';

/** `${VAR}` or `${VAR:-default}`, as regex source (also used by the JSON Schema, which must accept it). */
export const ENV_PLACEHOLDER_SOURCE = '\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\\}';

const PLACEHOLDER = new RegExp(`\\$\\$|${ENV_PLACEHOLDER_SOURCE}`, 'g');

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
      // A plain `${PORT}` is typed by its text, as YAML would type a plain 6379, so `port: ${PORT}`
      // validates as a number. A quoted one is a string in YAML, so it stays one (ids, "007").
      node.value = node.type === Scalar.PLAIN && whole(node.value) ? typed(replaced) : replaced;
    },
  });
  return issues;
}

function whole(text: string): boolean {
  return /^\$\{[^}]+\}$/.test(text);
}

/** Doubles keep 15 significant decimal digits exactly; a longer number stays text. */
const EXACT_DIGITS = 15;

/**
 * A number or boolean when the text is one and nothing is lost in the conversion: leading zeros
 * (`007`), integers past Number.MAX_SAFE_INTEGER and over-long decimals stay strings.
 */
function typed(text: string): string | number | boolean {
  if (text === 'true' || text === 'false') return text === 'true';
  if (/^-?(0|[1-9]\d*)$/.test(text)) {
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : text;
  }
  if (/^-?(0|[1-9]\d*)\.\d+$/.test(text)) {
    const significant = text.replace(/^-/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
    return significant.length <= EXACT_DIGITS ? Number(text) : text;
  }
  return text;
}
