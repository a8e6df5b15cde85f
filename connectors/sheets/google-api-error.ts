import { permanent, retryable, type DeliveryResult } from '../connector.js';
import { classifyHttpResponse, networkFailure, parseRetryAfter } from '../lib/http-result.js';

/**
 * What a failed Sheets API call means for the deliveries: Google's quota answers are retryable
 * (and marked RESOURCE_EXHAUSTED so the caller pauses the connector), permission, not-found and
 * auth answers are permanent with a message that says what to fix, and the rest goes to the
 * shared HTTP classification.
 */

/** The parts of a gaxios error we read; anything else thrown has none of them. */
interface GoogleErrorShape {
  status?: number;
  message?: string;
  response?: { status?: number; headers?: unknown; data?: unknown };
}

export interface GoogleErrorContext {
  spreadsheetId: string;
  /** The service account to share the spreadsheet with, named in 403 messages. */
  clientEmail: string | undefined;
  /** Retry delay for quota answers without a Retry-After header. */
  quotaRetryAfterMs: number;
}

/** True when the call failed before any HTTP answer arrived (a write may still have landed). */
export function unanswered(err: unknown): boolean {
  return !(err as GoogleErrorShape).response;
}

/** Classifies a failed call named `what` (e.g. "append rows"), the name leading every reason. */
export function classifyGoogleError(err: unknown, what: string, context: GoogleErrorContext): DeliveryResult {
  const e = err as GoogleErrorShape;
  const status = e.response?.status ?? e.status;
  if (typeof status !== 'number') return networkFailure(err);
  const data = e.response?.data as
    { error?: { message?: string; status?: string; errors?: { reason?: string }[] } | string; error_description?: string } | undefined;
  const gErr = typeof data?.error === 'object' ? data.error : undefined;
  const message = gErr?.message ?? data?.error_description ?? (typeof data?.error === 'string' ? data.error : e.message) ?? '';
  // gaxios's Headers may come from another realm (instanceof fails): read the one header we need.
  const raw = e.response?.headers as { get?: (name: string) => string | null } | Record<string, string> | undefined;
  const retryAfter = typeof raw?.get === 'function' ? (raw.get('retry-after') ?? undefined) : (raw as Record<string, string> | undefined)?.['retry-after'];
  const headers: Record<string, string | undefined> = { 'retry-after': retryAfter };
  const sheet = `spreadsheet ${context.spreadsheetId}`;
  // https://developers.google.com/workspace/sheets/api/limits: 429 means "retry with backoff".
  if (status === 429) {
    const after = parseRetryAfter(retryAfter);
    return retryable(`${what}: Sheets quota exceeded (429 RESOURCE_EXHAUSTED): ${message}`, after ?? context.quotaRetryAfterMs);
  }
  // Older Google APIs signal rate limits as 403 with these reasons; they are not permission problems.
  if (status === 403 && gErr?.errors?.some((x) => x.reason === 'rateLimitExceeded' || x.reason === 'userRateLimitExceeded')) {
    return retryable(`${what}: Sheets rate limit (403 ${gErr.errors[0]?.reason}): RESOURCE_EXHAUSTED ${message}`, context.quotaRetryAfterMs);
  }
  if (status === 403) {
    return permanent(
      `${what}: permission denied (403) on ${sheet}: share it with ${context.clientEmail ?? 'the authenticated account'} as an editor and enable the Sheets API — ${message}`,
    );
  }
  if (status === 404) return permanent(`${what}: ${sheet} not found (404): check spreadsheetId and that the account can see it — ${message}`);
  if (status === 401) return permanent(`${what}: authentication failed (401): check serviceAccountKey / accessToken — ${message}`);
  const result = classifyHttpResponse(status, headers, message);
  return result.status === 'delivered' ? retryable(`${what}: unexpected HTTP ${status}`) : { ...result, reason: `${what}: ${result.reason}` };
}
