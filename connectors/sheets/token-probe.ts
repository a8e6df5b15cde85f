import { errorMessage } from '../../src/core/errors.js';
import type { ProbeContext, ProbeResult } from '../connector.js';
import { untilAborted } from '../lib/probe-abort.js';
import type { SheetsConfig } from './config.js';
import { createSheetsAuth } from './google-auth.js';

/**
 * `check --online` for Sheets: exchanges the service-account key for an access token at its
 * token endpoint (the key's `token_uri`, as deliveries do), or asks Application Default
 * Credentials for one. Reads and writes nothing in the spreadsheet.
 */
export async function probeSheetsToken(config: SheetsConfig, ctx: ProbeContext): Promise<ProbeResult> {
  if (config.accessToken) return { status: 'not-checked', detail: 'a pre-issued accessToken: there is no exchange to test' };
  const what = config.serviceAccountKey ? 'token exchange for the service-account key' : 'Application Default Credentials';
  try {
    const auth = createSheetsAuth(config);
    const answer: unknown = await untilAborted<unknown>(auth.client.getAccessToken(), ctx.signal);
    const token = typeof answer === 'string' ? answer : (answer as { token?: string | null } | null | undefined)?.token;
    if (!token) return { status: 'failed', detail: `${what}: no access token returned` };
    return {
      status: 'ok',
      detail: `${what}: access token issued${auth.clientEmail ? ` to ${auth.clientEmail} (share the spreadsheet with it as an editor)` : ''}`,
    };
  } catch (err) {
    return { status: 'failed', detail: `${what} failed: ${errorMessage(err)}` };
  }
}
