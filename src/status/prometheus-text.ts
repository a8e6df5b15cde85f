/** One sample of a Prometheus text exposition. */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/**
 * Reads the samples of a Prometheus text exposition (format 0.0.4, what prom-client writes):
 * `name{label="value",…} value [timestamp]`; comments and malformed lines are skipped.
 * prom-client has no parser, and this is all `status` needs.
 */
export function parsePrometheusText(text: string): PromSample[] {
  const out: PromSample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const brace = line.indexOf('{');
    const close = brace < 0 ? -1 : line.lastIndexOf('}');
    const name = brace < 0 ? line.split(/\s+/, 1)[0]! : line.slice(0, brace);
    const rest = (brace < 0 ? line.slice(name.length) : line.slice(close + 1)).trim().split(/\s+/);
    const value = Number(rest[0]);
    if (!name || rest[0] === undefined || (Number.isNaN(value) && rest[0] !== 'NaN')) continue;
    const labels: Record<string, string> = {};
    if (brace >= 0) {
      for (const m of line.slice(brace + 1, close).matchAll(LABEL)) labels[m[1]!] = unescape(m[2]!);
    }
    out.push({ name, labels, value });
  }
  return out;
}

function unescape(value: string): string {
  return value.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
}
