import { eventId, type BridgeEvent } from '../../core/event.js';
import { counter } from '../../core/metrics.js';
import { stateKeyBase, type SourceContext } from '../source.js';
import type { ObserverAdminLike } from './observer-api.js';
import { GONE_STATE, isProblemState, normaliseAdminStates, type AdminItem, type AdminKind } from './admin-states.js';
import { toIsoTime } from './observer-time.js';
import { fencedCommand } from '../source-lease.js';

const metrics = {
  changes: counter('mb_observer_admin_changes_total', 'Observer worker/server/job state changes turned into events', ['source', 'kind']),
  skipped: counter('mb_observer_admin_skipped_total', 'Observer admin entries without a usable id or state (skipped, logged)', ['source', 'kind']),
};

const POLLS: ReadonlyArray<{ kind: AdminKind; method: 'getWorkerState' | 'getServerState' | 'listJobs' }> = [
  { kind: 'worker', method: 'getWorkerState' },
  { kind: 'server', method: 'getServerState' },
  { kind: 'job', method: 'listJobs' },
];

/** What is remembered per item in Redis, so a restart does not re-emit an unchanged state. */
interface Remembered {
  state: string;
  /** How many changes of this item have been emitted; part of the event id. */
  change: number;
  item: Record<string, unknown>;
}

export interface AdminPollerOptions {
  ctx: SourceContext;
  /** Interval between polls, ms. */
  pollEvery: number;
  /** Hands an event to the pipeline; false when it could not (the change is retried next poll). */
  emit: (event: BridgeEvent) => Promise<boolean>;
  /** Reports a failed admin request (metrics, log, disconnect detection). */
  requestFailed: (method: string, err: unknown) => void;
}

/**
 * Polls the ObserverAdminClient calls and turns state changes into `observer.worker.state`,
 * `observer.server.state` and `observer.job.state` events. Each change is one event with the id
 * `<source>:observer.<kind>.state:<item id>:<change #>:<state>`; the last state of every item lives
 * in Redis (`<prefix>source:<name>:admin:<kind>`) and is written only after the event was taken,
 * so a crash re-emits the same id (deduplicated downstream) and a restart emits nothing unchanged.
 */
export class AdminPoller {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private readonly loggedSkips = new Set<string>();

  constructor(private readonly options: AdminPollerOptions) {}

  /** Polls now and every `pollEvery` until `stop()`. */
  start(client: ObserverAdminLike): void {
    this.stop();
    const tick = () => void this.pollOnce(client);
    tick();
    this.timer = setInterval(tick, this.options.pollEvery);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  async pollOnce(client: ObserverAdminLike): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (const { kind, method } of POLLS) {
        let raw: unknown;
        try {
          raw = await client[method]();
        } catch (err) {
          // A failed poll says nothing about the items: they are not treated as gone.
          this.options.requestFailed(method, err);
          continue;
        }
        let items: AdminItem[];
        try {
          const states = normaliseAdminStates(kind, raw);
          items = states.items;
          for (const s of states.skipped) this.skip(kind, method, s.reason);
        } catch (err) {
          this.options.requestFailed(
            method,
            Object.assign(new Error(`${method} returned an unusable payload: ${(err as Error).message}`), { code: 'observer_invalid_response' }),
          );
          continue;
        }
        await this.diff(kind, items);
      }
    } catch (err) {
      this.options.ctx.logger.error({ err: (err as Error).message }, 'observer: admin state poll failed; retrying on the next poll');
    } finally {
      this.running = false;
    }
  }

  private key(kind: AdminKind): string {
    const { ctx } = this.options;
    return `${stateKeyBase(ctx)}admin:${kind}`;
  }

  private skip(kind: AdminKind, method: string, reason: string): void {
    const { ctx } = this.options;
    metrics.skipped.inc({ source: ctx.name, kind });
    // The same bad entry comes back every poll: log each reason once per process.
    if (this.loggedSkips.has(reason)) return;
    this.loggedSkips.add(reason);
    ctx.logger.warn({ method }, `observer: skipped an entry of ${method}: ${reason}`);
  }

  private async diff(kind: AdminKind, items: AdminItem[]): Promise<void> {
    const { redis } = this.options.ctx;
    const key = this.key(kind);
    const stored = await redis.hgetall(key);
    const known = new Map<string, Remembered>();
    for (const [id, json] of Object.entries(stored)) {
      try {
        known.set(id, JSON.parse(json) as Remembered);
      } catch {
        // an unreadable record counts as never seen: the current state is emitted once
      }
    }
    const seen = new Set<string>();
    for (const current of items) {
      seen.add(current.id);
      const previous = known.get(current.id);
      if (previous?.state === current.state) continue;
      await this.change(kind, key, current.id, current.state, current.item, previous);
    }
    for (const [id, previous] of known) {
      if (seen.has(id) || previous.state === GONE_STATE[kind]) continue;
      await this.change(kind, key, id, GONE_STATE[kind], previous.item, previous);
    }
  }

  private async change(
    kind: AdminKind,
    key: string,
    id: string,
    state: string,
    item: Record<string, unknown>,
    previous: Remembered | undefined,
  ): Promise<void> {
    const { ctx } = this.options;
    const change = (previous?.change ?? 0) + 1;
    const problem = isProblemState(kind, state);
    const wasProblem = previous ? isProblemState(kind, previous.state) : false;
    const flags = kind === 'job' ? { failed: problem, wasFailed: wasProblem } : { down: problem, wasDown: wasProblem };
    const gone = state === GONE_STATE[kind];
    const event: BridgeEvent = {
      id: eventId(ctx.name, `observer.${kind}.state`, `${id}:${change}:${state}`),
      source: ctx.name,
      kind: `observer.${kind}.state`,
      time: (gone ? undefined : toIsoTime(item.updatedAt ?? item.timestamp ?? item.since)) ?? new Date().toISOString(),
      data: { [`${kind}Id`]: id, id, state, previousState: previous?.state ?? null, change, ...flags, item },
    };
    if (!(await this.options.emit(event))) return; // state not saved: the next poll emits the same id
    metrics.changes.inc({ source: ctx.name, kind });
    // A removed job is forgotten; a missing worker or server is remembered so its return is a change.
    if (kind === 'job' && gone) await fencedCommand(ctx.redis, ctx.lease, 'HDEL', key, [id], `observer ${kind} state`);
    else await fencedCommand(ctx.redis, ctx.lease, 'HSET', key, [id, JSON.stringify({ state, change, item } satisfies Remembered)], `observer ${kind} state`);
  }
}
