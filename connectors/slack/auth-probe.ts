import { LogLevel, WebAPIPlatformError, WebClient, type Logger as SlackLogger } from '@slack/web-api';
import { errorMessage } from '../../src/core/errors.js';
import type { ProbeContext, ProbeResult } from '../connector.js';
import { untilAborted } from '../lib/probe-abort.js';
import type { SlackConfig } from './config.js';

const quiet: SlackLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  setLevel: () => undefined,
  getLevel: () => LogLevel.ERROR,
  setName: () => undefined,
};

/**
 * `check --online` for Slack: `auth.test` (https://docs.slack.dev/reference/methods/auth.test)
 * proves the token and the API URL without posting anything.
 */
export async function probeSlackAuth(config: SlackConfig, ctx: ProbeContext): Promise<ProbeResult> {
  const client = new WebClient(config.token, {
    slackApiUrl: config.apiUrl,
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
    logger: quiet,
    timeout: 10_000,
  });
  try {
    const answer = await untilAborted(client.auth.test(), ctx.signal);
    return { status: 'ok', detail: `auth.test: token of ${answer.user ?? 'an unnamed user'} in team ${answer.team ?? answer.team_id ?? '?'}` };
  } catch (err) {
    const code = err instanceof WebAPIPlatformError ? err.data.error : undefined;
    const hint =
      code === 'invalid_auth' || code === 'not_authed' || code === 'token_revoked' || code === 'account_inactive'
        ? ': check the token (a bot token xoxb-… with chat:write)'
        : '';
    return { status: 'failed', detail: `auth.test at ${config.apiUrl} failed: ${code ?? errorMessage(err)}${hint}` };
  }
}
