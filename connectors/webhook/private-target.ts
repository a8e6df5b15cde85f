import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { ConfigIssue } from '../../src/core/config-error.js';
import { errorMessage } from '../../src/core/errors.js';
import type { ProbeResult } from '../connector.js';
import type { WebhookConfig } from './config.js';
import { isPrivateAddress } from './ssrf-guard.js';

const ALLOW_HINT = 'set allowPrivateNetworks: true on the connector if this internal target is intended';

/** The host of a URL as the guard sees it: no IPv6 brackets, no trailing dot, lower case. */
function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname
      .replace(/^\[|\]$/g, '')
      .replace(/\.$/, '')
      .toLowerCase();
  } catch {
    return undefined;
  }
}

/**
 * A webhook URL the SSRF guard would refuse at every delivery, found without DNS: a literal
 * private, loopback or link-local IP, or `localhost` (and `*.localhost`, which resolve to loopback
 * by RFC 6761). Other host names are resolved by `check --online` ({@link probeWebhookTarget}).
 */
export function privateTargetProblem(url: string): string | undefined {
  const host = hostOf(url);
  if (host === undefined) return undefined;
  const loopbackName = host === 'localhost' || host.endsWith('.localhost');
  if (!loopbackName && !(isIP(host) && isPrivateAddress(host))) return undefined;
  return `${host} is a ${loopbackName ? 'loopback' : 'private, loopback or link-local'} address: the SSRF guard refuses it, so every delivery would be dead-lettered; ${ALLOW_HINT}`;
}

/** `configProblems` of the webhook plugin: the connector's url, or a route's `url` override. */
export function webhookConfigProblems(config: WebhookConfig, overrides?: Record<string, unknown>): ConfigIssue[] {
  if (config.allowPrivateNetworks) return [];
  const url = overrides ? overrides.url : config.url;
  const problem = typeof url === 'string' ? privateTargetProblem(url) : undefined;
  return problem ? [{ path: ['url'], message: problem }] : [];
}

/**
 * `check --online` for a webhook: there is no harmless call to make on a receiver, but its host
 * name is resolved as the guard will resolve it at delivery, so a name that points into a private
 * network is reported now rather than as dead letters.
 */
export async function probeWebhookTarget(config: WebhookConfig): Promise<ProbeResult> {
  const host = hostOf(config.url);
  if (!host || isIP(host)) return { status: 'not-checked', detail: 'no harmless call exists for a webhook receiver; nothing sent' };
  let addresses: string[];
  try {
    addresses = (await lookup(host, { all: true })).map((a) => a.address);
  } catch (err) {
    return { status: 'failed', detail: `cannot resolve ${host}: ${errorMessage(err)}` };
  }
  const blocked = addresses.filter((a) => isPrivateAddress(a));
  if (blocked.length && !config.allowPrivateNetworks) {
    return {
      status: 'failed',
      detail: `${host} resolves to ${blocked.join(', ')}, a private, loopback or link-local address: the SSRF guard will refuse every delivery; ${ALLOW_HINT}`,
    };
  }
  return { status: 'not-checked', detail: `${host} resolves to ${addresses.join(', ')}; no harmless call exists for a webhook receiver, nothing sent` };
}
