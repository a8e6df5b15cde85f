import { Liquid, type Template as LiquidTemplate } from 'liquidjs';
import { InputError, PayloadError } from '../core/errors.js';

/**
 * The one template engine for every payload field, throttle key and thread key: `{{ }}`
 * placeholders over the event (LiquidJS syntax and filters). Templates are compiled once at
 * config load. They cannot reach code or the filesystem: no `include`/`render` of files, only
 * own properties are visible, and unknown filters are compile errors.
 *
 * The render scope is the event itself: `{{ id }}`, `{{ source }}`, `{{ kind }}`, `{{ time }}`,
 * `{{ data.publicId }}`; a group digest adds `{{ events }}`.
 */
export interface Template {
  readonly source: string;
  /** Renders to text. A missing field renders as empty. */
  render(scope: object): string;
}

/** A compiled object/array/string whose string leaves are templates. */
export interface PayloadTemplate {
  render(scope: object): unknown;
}

/**
 * Limits of one render, so that event data cannot turn a template into a denial of service (a
 * `{% for i in (1..data.n) %}` over an upstream number blocked the event loop for 12 s). A render
 * that exceeds one fails with a {@link TemplateLimitError}: that one delivery is not sent (the
 * router logs and counts it), every other event still renders.
 */
export const TEMPLATE_LIMITS = {
  /** Wall time of one render, in ms (liquidjs `renderLimit`). @defaultValue 200 */
  renderMs: 200,
  /** Units liquidjs charges for ranges, arrays, joins, appends… (about characters/elements). @defaultValue 10_000_000 */
  memory: 10_000_000,
  /** Characters of template source parsed in one `parse()` (config load). @defaultValue 1_000_000 */
  parseChars: 1_000_000,
  /** Characters of one rendered template's output. @defaultValue 1_048_576 (1 MiB) */
  outputChars: 1_048_576,
} as const;

/** A render stopped by one of {@link TEMPLATE_LIMITS}. Permanent: the same event would fail again. */
export class TemplateLimitError extends PayloadError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TemplateLimitError';
  }
}

const liquid = new Liquid({
  renderLimit: TEMPLATE_LIMITS.renderMs,
  memoryLimit: TEMPLATE_LIMITS.memory,
  parseLimit: TEMPLATE_LIMITS.parseChars,
  strictFilters: true,
  strictVariables: false,
  ownPropertyOnly: true,
  jsTruthy: true,
  // No filesystem: {% include %} / {% render %} / {% layout %} cannot read files.
  fs: {
    existsSync: () => false,
    exists: async () => false,
    readFileSync: () => {
      throw new Error('templates cannot read files');
    },
    readFile: async () => {
      throw new Error('templates cannot read files');
    },
    resolve: (_root: string, file: string) => file,
    contains: async () => false,
  },
  relativeReference: false,
});

/** Escapes text for Slack mrkdwn so upstream strings cannot forge links or mentions. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

liquid.registerFilter('mrkdwn', (v: unknown) => escapeMrkdwn(v === undefined || v === null ? '' : String(v)));
liquid.registerFilter('number', (v: unknown, digits: unknown = 0) => {
  const n = Number(v);
  if (!Number.isFinite(n)) return v;
  const d = Number(digits);
  return n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
});
liquid.registerFilter('iso', (v: unknown) => {
  const d = v instanceof Date ? v : new Date(String(v));
  return Number.isNaN(d.getTime()) ? v : d.toISOString();
});

/** Registers an extra filter for every template (call before configs are compiled). */
export function registerTemplateFilter(name: string, fn: (value: unknown, ...args: unknown[]) => unknown): void {
  liquid.registerFilter(name, fn);
}

const HAS_TAG = /\{\{|\{%/;

/** true when `source` has `{{ }}` or `{% %}` tags (it renders event data); false for a plain string. */
export function isTemplate(source: string): boolean {
  return HAS_TAG.test(source);
}

/** `{{ path }}` alone (no filters): rendered as the raw value, so `data: "{{ data }}"` stays an object. */
const SINGLE_VALUE = /^\s*\{\{-?\s*([A-Za-z_][\w.[\]"'-]*)\s*-?\}\}\s*$/;

export function compileTemplate(source: string, where = 'template'): Template {
  if (!HAS_TAG.test(source)) {
    return { source, render: () => source };
  }
  let parsed: LiquidTemplate[];
  try {
    parsed = liquid.parse(source);
  } catch (err) {
    throw new InputError('template_invalid', `${where}: cannot compile template ${JSON.stringify(source)}: ${(err as Error).message}`, { cause: err });
  }
  return {
    source,
    render: (scope) => {
      let out: string;
      try {
        out = liquid.renderSync(parsed, scope) as string;
      } catch (err) {
        throw limitError(err, where) ?? err;
      }
      if (out.length > TEMPLATE_LIMITS.outputChars) {
        throw new TemplateLimitError(
          `${where}: the template rendered ${out.length} characters; the limit is ${TEMPLATE_LIMITS.outputChars}. Render less of the event (e.g. a field, not the whole list)`,
        );
      }
      return out;
    },
  };
}

const LIMIT_MESSAGES: [RegExp, string][] = [
  [/render limit exceeded/, `took longer than ${TEMPLATE_LIMITS.renderMs} ms`],
  [/memory alloc limit exceeded/, `allocated more than ${TEMPLATE_LIMITS.memory} units (ranges, arrays, appends)`],
];

/** liquidjs reports a limit as a RenderError with a fixed message; say which and what to do. */
function limitError(err: unknown, where: string): TemplateLimitError | undefined {
  const message = (err as Error)?.message ?? '';
  for (const [pattern, what] of LIMIT_MESSAGES) {
    if (pattern.test(message)) {
      return new TemplateLimitError(
        `${where}: the template ${what} and was stopped (${message}); a loop or range over event data is the usual cause — bound it, e.g. {% for x in data.list limit: 100 %}`,
        { cause: err },
      );
    }
  }
  return undefined;
}

export function compilePayload(value: unknown, where = 'payload'): PayloadTemplate {
  if (typeof value === 'string') {
    const single = SINGLE_VALUE.exec(value);
    if (single) {
      const expr = single[1]!;
      return { render: (scope) => liquid.evalValueSync(expr, scope) ?? '' };
    }
    const t = compileTemplate(value, where);
    return { render: (scope) => t.render(scope) };
  }
  if (Array.isArray(value)) {
    const items = value.map((v, i) => compilePayload(v, `${where}[${i}]`));
    return { render: (scope) => items.map((t) => t.render(scope)) };
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).map(([k, v]) => [k, compilePayload(v, `${where}.${k}`)] as const);
    return { render: (scope) => Object.fromEntries(entries.map(([k, t]) => [k, t.render(scope)])) };
  }
  return { render: () => value };
}
