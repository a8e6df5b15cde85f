import { delivered, permanent, retryable, type DeliveryResult } from '../connector.js';

/**
 * One place that classifies HTTP answers from sinks (Alertmanager's notify/util.go idea):
 * 2xx delivered; 408, 429 and 5xx retryable (honouring Retry-After); everything else permanent.
 * Vendor-specific codes are handled by the caller before falling back to this.
 */
export function classifyHttpResponse(status: number, headers: Headers | Record<string, string | undefined>, body?: string): DeliveryResult {
  if (status >= 200 && status < 300) return delivered({ status });
  const reason = `HTTP ${status}${body ? `: ${body.slice(0, 500)}` : ''}`;
  if (status === 408 || status === 429 || status >= 500) {
    return retryable(reason, parseRetryAfter(header(headers, 'retry-after')));
  }
  return permanent(reason);
}

function header(headers: Headers | Record<string, string | undefined>, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key ? headers[key] : undefined;
}

/** `Retry-After` as seconds or an HTTP date → milliseconds (undefined when absent or unparseable). */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** A network-level failure (connection refused, reset, DNS, abort by timeout) is always retryable. */
export function networkFailure(err: unknown): DeliveryResult {
  const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string } };
  const code = e.cause?.code ?? e.code ?? e.name ?? 'error';
  return retryable(`network error (${code}): ${e.message ?? String(err)}`);
}

/**
 * The body of a sink's answer for classification and dead letters: at most `limit` characters,
 * and never a throw (a connection dropped mid-body reads as empty).
 */
export async function readResponseText(response: Response, limit = 4096): Promise<string> {
  try {
    const text = await response.text();
    return text.length > limit ? text.slice(0, limit) : text;
  } catch {
    return '';
  }
}
