import { InputError } from '../../src/core/errors.js';
import { REDACTED, registerSecret } from '../../src/core/secret-redaction.js';
import { isTemplate } from '../../src/templates/template-engine.js';

/**
 * The receiver's credentials in a webhook target — static header values, the URL's userinfo and
 * its query values — are secrets: they never go into a queued job (Redis, `dlq show`, the
 * dashboard) nor into logs. A job carries the target with them masked (`credentialFreeUrl`) and
 * the names of the static headers; the connector puts the real values back at delivery time,
 * from the current config (so a rotated token applies to jobs already queued).
 *
 * Why every query value and not only `token`/`key`/`sig`: the URL is static config, never event
 * data, so masking a harmless value costs nothing (it is restored at delivery), while a name list
 * always misses one (`code=` on Azure Functions, `auth=`, `X-Amz-Signature=`…).
 * Not covered: a secret in the URL's path (Slack/Discord-style hook URLs) stays in the job; send
 * such a credential in a header or the query instead.
 */
export interface StaticRequestParts {
  /** The full configured URL, credentials included. */
  url: string;
  /** Header values without template tags, as configured. */
  headers: Record<string, string>;
}

/** Headers whose static values are protocol metadata, not credentials: not registered for log redaction (it would blank out e.g. `application/json` everywhere). */
const NOT_CREDENTIALS = new Set(['content-type', 'accept', 'accept-language', 'content-language', 'user-agent', 'cache-control']);

/** Shorter query values are not registered for redaction: `1`, `json`, `v2` would blank out ordinary words. */
const MIN_QUERY_SECRET = 8;

/** The target as stored in a job: no userinfo, every query value replaced by `<secret>`. */
export function credentialFreeUrl(url: string): string {
  const u = new URL(url);
  const query = [...u.searchParams.keys()].map((k) => `${encodeURIComponent(k)}=${REDACTED}`).join('&');
  return `${u.protocol}//${u.host}${u.pathname}${query ? `?${query}` : ''}`;
}

/** Splits configured headers into templated ones (rendered per event, stored in the job) and static ones (credentials, applied at delivery). */
export function splitHeaders(headers: Record<string, string>): { templated: Record<string, string>; fixed: Record<string, string> } {
  const templated: Record<string, string> = {};
  const fixed: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) (isTemplate(v) ? templated : fixed)[k] = v;
  return { templated, fixed };
}

function registerCredentials(parts: StaticRequestParts): void {
  const u = new URL(parts.url);
  if (u.username) registerSecret(decodeURIComponent(u.username));
  if (u.password) registerSecret(decodeURIComponent(u.password));
  for (const v of u.searchParams.values()) {
    if (v.length < MIN_QUERY_SECRET) continue;
    registerSecret(v);
    registerSecret(encodeURIComponent(v));
  }
  for (const [name, value] of Object.entries(parts.headers)) {
    if (NOT_CREDENTIALS.has(name.toLowerCase())) continue;
    registerSecret(value);
    // `Bearer <token>`, `Basic <b64>`, `Token <t>`: a receiver that echoes the token alone is redacted too.
    const scheme = /^[A-Za-z][\w-]*\s+(\S{4,})$/.exec(value);
    if (scheme) registerSecret(scheme[1]!);
  }
}

/**
 * The static parts of every target this connector sends to (its config and each route's
 * override), found at delivery time by what the job keeps: the credential-free URL and the static
 * header names. Two targets that differ only in their credentials cannot be told apart that way,
 * so they are refused when the routes are compiled.
 */
export class RequestCredentials {
  private readonly byShape = new Map<string, StaticRequestParts>();

  constructor(private readonly where: string) {}

  /** Remembers one target; returns what a job stores of it. Throws InputError on an ambiguous target. */
  register(parts: StaticRequestParts): { url: string; staticHeaders: string[] } {
    registerCredentials(parts);
    const url = credentialFreeUrl(parts.url);
    const staticHeaders = Object.keys(parts.headers).sort();
    const key = shapeKey(url, staticHeaders);
    const known = this.byShape.get(key);
    if (known && (known.url !== parts.url || JSON.stringify(sorted(known.headers)) !== JSON.stringify(sorted(parts.headers)))) {
      throw new InputError(
        'override_invalid',
        `${this.where}: two targets send to ${url} with the same static headers (${staticHeaders.join(', ') || 'none'}) but different credentials; the queue stores neither, so it could not tell them apart — use a separate connector for each`,
      );
    }
    this.byShape.set(key, parts);
    return { url, staticHeaders };
  }

  /**
   * The static parts for a job's stored target. When no configured target has that shape any more
   * (the URL or the header set changed since the job was queued) and the connector has exactly one
   * target, that one: the backlog follows the connector to where it sends now, as a sink's endpoint
   * move does in Svix-style services — a changed URL must not turn every queued delivery into a dead
   * letter. Undefined when several targets remain and none matches (which one is meant is unknown).
   */
  resolve(url: string, staticHeaders: readonly string[]): { parts: StaticRequestParts; moved: boolean } | undefined {
    const exact = this.byShape.get(shapeKey(url, [...staticHeaders].sort()));
    if (exact) return { parts: exact, moved: false };
    if (this.byShape.size === 1) return { parts: this.byShape.values().next().value!, moved: true };
    return undefined;
  }
}

function shapeKey(url: string, headerNames: string[]): string {
  return JSON.stringify([url, headerNames]);
}

function sorted(o: Record<string, string>): [string, string][] {
  return Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
