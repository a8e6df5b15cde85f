import { BridgeError, errorMessage } from '../core/errors.js';
import { parsePrometheusText, type PromSample } from './prometheus-text.js';

export type DepthState = 'waiting' | 'active' | 'delayed' | 'prioritized' | 'failed';

export interface SourceStatus {
  name: string;
  /** The source's own state (`connected`, `connecting`, `backoff`, …) as /readyz reports it. */
  state: string;
  ok: boolean;
  /** Why /readyz counts it not ready. */
  reason?: string;
  events: number;
  eventsPerSecond?: number;
  /** Only for sources that report how far their cursor is behind upstream. */
  cursorLagSeconds?: number;
  oldestPendingSeconds?: number;
  /** Who reads it, as /readyz says: `leader`, `standby` (another replica reads it) or `every-replica`. */
  role?: string;
  /** The replica that leads it, when known. */
  leader?: string;
}

export interface ConnectorStatus {
  name: string;
  workerRunning: boolean;
  /** Jobs in the queue per state; `failed` are the dead letters kept. */
  depth: Record<DepthState, number>;
  delivered: number;
  deliveredPerSecond?: number;
  retries: number;
  retriesPerSecond?: number;
  deadLettered: number;
  deadLetteredPerSecond?: number;
}

/** What `status` shows: one scrape of `/readyz` and `/metrics`. Rates need two (see withRates). */
export interface StatusSnapshot {
  url: string;
  /** ISO time of the scrape. */
  at: string;
  ready: boolean;
  reasons: string[];
  redisUp: boolean;
  sources: SourceStatus[];
  connectors: ConnectorStatus[];
}

interface ReadyzBody {
  ready?: boolean;
  reasons?: string[];
  checks?: Record<string, { ok: boolean; reason?: string; detail?: { status?: string; role?: string; leader?: string } }>;
}

const DEPTH_STATES: DepthState[] = ['waiting', 'active', 'delayed', 'prioritized', 'failed'];

/** Scrapes a running daemon's ops server. Throws a BridgeError naming `url` when it does not answer. */
export async function fetchStatus(url: string, timeoutMs = 3_000): Promise<StatusSnapshot> {
  const base = url.replace(/\/+$/, '');
  const get = async (path: string) => {
    try {
      return await fetch(`${base}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
    } catch (cause) {
      const why = cause instanceof Error && cause.cause instanceof Error ? cause.cause.message : errorMessage(cause);
      throw new BridgeError(
        'status_unreachable',
        `no moments-bridge daemon answering at ${base}${path} (${why}): is it running? Point --url at its ops server (server.host and server.port), or -c at its config`,
        { cause },
      );
    }
  };
  const [readyRes, metricsRes] = await Promise.all([get('/readyz'), get('/metrics')]);
  if (metricsRes.status !== 200)
    throw new BridgeError('status_unexpected', `${base}/metrics answered HTTP ${metricsRes.status}: is that a moments-bridge ops server?`);
  let readyz: ReadyzBody;
  try {
    readyz = (await readyRes.json()) as ReadyzBody;
  } catch {
    throw new BridgeError('status_unexpected', `${base}/readyz did not answer JSON (HTTP ${readyRes.status}): is that a moments-bridge ops server?`);
  }
  return buildSnapshot(base, readyz, parsePrometheusText(await metricsRes.text()));
}

function buildSnapshot(url: string, readyz: ReadyzBody, samples: PromSample[]): StatusSnapshot {
  const sum = (name: string, label: string, value: string) =>
    samples.filter((s) => s.name === name && s.labels[label] === value).reduce((n, s) => n + s.value, 0);
  const one = (name: string, label: string, value: string) => samples.find((s) => s.name === name && s.labels[label] === value)?.value;
  const names = (metric: string[], label: string) =>
    [...new Set(samples.filter((s) => metric.includes(s.name) && s.labels[label] !== undefined).map((s) => s.labels[label]!))].sort();

  const checks = readyz.checks ?? {};
  const sourceNames = [
    ...new Set([
      ...Object.keys(checks)
        .filter((k) => k.startsWith('source:'))
        .map((k) => k.slice('source:'.length)),
      ...names(['mb_source_connected'], 'source'),
    ]),
  ].sort();
  const sources = sourceNames.map((name): SourceStatus => {
    const check = checks[`source:${name}`];
    const lag = one('mb_source_cursor_lag_seconds', 'source', name);
    const pending = one('mb_source_oldest_pending_age_seconds', 'source', name);
    return {
      name,
      state: check?.detail?.status ?? (one('mb_source_connected', 'source', name) === 1 ? 'connected' : 'unknown'),
      ok: check?.ok ?? false,
      ...(check?.reason ? { reason: check.reason } : {}),
      events: sum('mb_events_received_total', 'source', name),
      ...(lag !== undefined ? { cursorLagSeconds: lag } : {}),
      ...(pending !== undefined ? { oldestPendingSeconds: pending } : {}),
      ...(check?.detail?.role ? { role: check.detail.role } : {}),
      ...(check?.detail?.leader ? { leader: check.detail.leader } : {}),
    };
  });

  const connectors = names(['mb_worker_running', 'mb_queue_depth'], 'connector').map((name): ConnectorStatus => {
    const depth = Object.fromEntries(
      DEPTH_STATES.map((state) => [
        state,
        samples.find((s) => s.name === 'mb_queue_depth' && s.labels.connector === name && s.labels.state === state)?.value ?? 0,
      ]),
    ) as Record<DepthState, number>;
    return {
      name,
      workerRunning: one('mb_worker_running', 'connector', name) === 1,
      depth,
      delivered: sum('mb_queue_jobs_completed_total', 'connector', name),
      retries: sum('mb_queue_jobs_retried_total', 'connector', name),
      deadLettered: sum('mb_queue_jobs_dead_lettered_total', 'connector', name),
    };
  });

  return {
    url,
    at: new Date().toISOString(),
    ready: readyz.ready === true,
    reasons: readyz.reasons ?? [],
    redisUp: samples.find((s) => s.name === 'mb_redis_up')?.value === 1,
    sources,
    connectors,
  };
}

/** `next` with per-second rates from the counters' growth since `prev` (a restarted daemon's counters reset: no rate then). */
export function withRates(prev: StatusSnapshot, next: StatusSnapshot): StatusSnapshot {
  const seconds = (Date.parse(next.at) - Date.parse(prev.at)) / 1000;
  if (!(seconds > 0)) return next;
  const rate = (a: number | undefined, b: number) => (a === undefined || b < a ? undefined : (b - a) / seconds);
  const opt = <K extends string>(key: K, v: number | undefined) => (v === undefined ? {} : ({ [key]: v } as Record<K, number>));
  return {
    ...next,
    sources: next.sources.map((s) => ({ ...s, ...opt('eventsPerSecond', rate(prev.sources.find((p) => p.name === s.name)?.events, s.events)) })),
    connectors: next.connectors.map((c) => {
      const p = prev.connectors.find((x) => x.name === c.name);
      return {
        ...c,
        ...opt('deliveredPerSecond', rate(p?.delivered, c.delivered)),
        ...opt('retriesPerSecond', rate(p?.retries, c.retries)),
        ...opt('deadLetteredPerSecond', rate(p?.deadLettered, c.deadLettered)),
      };
    }),
  };
}
