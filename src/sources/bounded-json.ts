/**
 * JSON from upstream with limits at the door. `JSON.parse` itself copes with a 6,000-deep array,
 * but the recursive code that runs later (templates, `JSON.stringify` into a queue job, CEL) does
 * not: one such value once crashed a whole batch. So depth and size are checked where the value
 * enters, and an offending value is refused alone, with a reason.
 */

export interface JsonLimits {
  /** Deepest nesting of arrays/objects accepted. @defaultValue 64 */
  maxDepth?: number;
  /** Largest JSON text accepted, in UTF-16 code units (≈ bytes for ASCII). @defaultValue 262144 (256 KiB) */
  maxLength?: number;
}

export const DEFAULT_JSON_LIMITS: Required<JsonLimits> = { maxDepth: 64, maxLength: 256 * 1024 };

/** `limit`: the text is over a limit (refuse it); `syntax`: it is not JSON at all. */
export type BoundedJsonResult = { ok: true; value: unknown } | { ok: false; kind: 'limit' | 'syntax'; reason: string };

/**
 * Nesting depth of a JSON text, found by one scan without parsing (so a hostile text is refused
 * before any recursion). Brackets inside strings do not count.
 */
function textDepthExceeds(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      depth++;
      if (depth > maxDepth) return true;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) depth--;
  }
  return false;
}

/** Parses a JSON text within the limits; never throws. */
export function parseBoundedJson(text: string, limits: JsonLimits = {}): BoundedJsonResult {
  const { maxDepth, maxLength } = { ...DEFAULT_JSON_LIMITS, ...limits };
  if (text.length > maxLength) return { ok: false, kind: 'limit', reason: `JSON text of ${text.length} characters exceeds the limit of ${maxLength}` };
  if (textDepthExceeds(text, maxDepth)) return { ok: false, kind: 'limit', reason: `JSON nesting deeper than ${maxDepth} levels` };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, kind: 'syntax', reason: `not JSON: ${(err as Error).message}` };
  }
}

/**
 * Why an already-parsed value could not be serialized safely later (too deep, or a cycle), or
 * undefined when it is fine. Iterative, so the check itself cannot overflow the stack.
 */
export function unserializableReason(value: unknown, maxDepth: number = DEFAULT_JSON_LIMITS.maxDepth): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  // Depth-first with an explicit stack; an `exit` entry takes a node off the ancestor path once
  // its children are done, so `onPath` detects cycles without flagging shared (DAG) values.
  const stack: Array<{ node: object; depth: number; exit: boolean }> = [{ node: value, depth: 1, exit: false }];
  const onPath = new Set<object>();
  while (stack.length) {
    const { node, depth, exit } = stack.pop()!;
    if (exit) {
      onPath.delete(node);
      continue;
    }
    if (depth > maxDepth) return `nesting deeper than ${maxDepth} levels`;
    if (onPath.has(node)) return 'a value that refers to itself (cycle)';
    onPath.add(node);
    stack.push({ node, depth, exit: true });
    for (const child of Object.values(node)) {
      if (child !== null && typeof child === 'object') stack.push({ node: child as object, depth: depth + 1, exit: false });
    }
  }
  return undefined;
}
