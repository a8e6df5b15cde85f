import { BridgeError, errorMessage } from '../core/errors.js';
import type { BridgeEvent } from '../core/event.js';
import type { Logger } from '../core/log.js';
import { counter } from '../core/metrics.js';
import type { Template } from '../templates/template-engine.js';
import { GroupStore, type PendingGroup } from './grouping.js';
import { formatValue, type FieldGetter } from './matchers.js';
import { compileRoutes, type CompiledRoute, type DisabledRoute, type RouteCompileDeps } from './route-compiler.js';
import { RouteIndex } from './route-index.js';
import type { RouteConfig } from './route-schema.js';

export interface RoutedDelivery {
  event: BridgeEvent;
  route: string;
  connector: string;
  payload: unknown;
}

/** One route's payload for one connector that failed to render: the caller sets it aside. */
export interface RenderFailure {
  event: BridgeEvent;
  route: string;
  connector: string;
  error: string;
}

/** Thrown by {@link Router.route} when matching the event itself failed (no Redis involved): the event, not the batch, is at fault. */
export class EventRoutingError extends BridgeError {
  constructor(eventId: string, cause: unknown) {
    super('route_match_failed', `matching event ${eventId} against the routes failed: ${errorMessage(cause)}`, { cause });
    this.name = 'EventRoutingError';
  }
}

export interface RouterDeps extends RouteCompileDeps {
  logger: Logger;
  /** The clock (ms): schedules and group timing. @defaultValue Date.now */
  now?: () => number;
  /** How often `start()` looks for due group digests. @defaultValue 1000 */
  flushEveryMs?: number;
}

/** A synthetic event for a group digest: `events` at the top (for templates) and in `data`. */
export interface DigestEvent extends BridgeEvent<DigestData> {
  events: BridgeEvent[];
}

/**
 * The digest's `data`: the first event's data (so per-event templates such as
 * `{{ data.callId }}` still read something sensible), then the digest's own fields on top.
 */
export interface DigestData extends Record<string, unknown> {
  route: string;
  /** Values of `group.by`, by path. */
  group: Record<string, unknown>;
  count: number;
  events: BridgeEvent[];
}

/** Why a route did not match, for `route` explanations and rule tests. */
export interface RouteDecision {
  route: string;
  index: number;
  status: 'matched' | 'no-match' | 'disabled' | 'not-reached';
  /** For no-match: the first check that failed. For not-reached: which route stopped evaluation. */
  reason?: string;
  /** For no-match on a `match` entry. */
  failed?: { field: string; expected: string; actual: string };
  /** not-reached: whether it would have matched. */
  wouldMatch?: boolean;
  continue: boolean;
  /** Rendered payloads (matched routes only). A grouped route renders a digest of this one event. */
  deliveries: { connector: string; payload?: unknown; error?: string }[];
  throttleKey?: string;
  dedupeKey?: string;
  groupKey?: Record<string, unknown>;
}

export interface RouteExplanation {
  event: BridgeEvent;
  /** The clock used for activeTimes (ISO). */
  at: string;
  routes: RouteDecision[];
  /** What `route()` would deliver now if no throttle/dedupe window were open (grouped routes deliver later, as digests). */
  deliveries: RoutedDelivery[];
}

/** What routing one event came to (see {@link Router.routeWithFailures}). */
export interface RouteOutcome {
  deliveries: RoutedDelivery[];
  unrendered: RenderFailure[];
  /** How many routes matched. 0: the event is unrouted; a throttled, deduplicated or grouped event matched but yields no delivery now. */
  matched: number;
}

/** Receives a due digest's deliveries; rejects to have the digest retried. */
export type DigestHandler = (deliveries: RoutedDelivery[], unrendered: RenderFailure[]) => Promise<void>;

const metrics = {
  matched: counter('mb_route_matched_total', 'Events matched by a route.', ['route']),
  throttled: counter('mb_route_throttled_total', 'Events held back by a route throttle.', ['route']),
  deduped: counter('mb_route_deduped_total', 'Events dropped as duplicates by a route dedupe.', ['route']),
  grouped: counter('mb_route_grouped_total', 'Events added to a pending group digest.', ['route']),
  digests: counter('mb_route_digests_total', 'Group digests flushed.', ['route']),
  conditionErrors: counter('mb_route_condition_errors_total', 'CEL `when` evaluations that failed (counted as no match).', ['route']),
  renderErrors: counter('mb_route_render_errors_total', 'Payloads or keys that failed to render.', ['route', 'connector']),
};

const EMPTY: readonly never[] = Object.freeze([]);
/** A flush that has not completed within this time is taken over by another replica. */
const FLUSH_LEASE_MS = 60_000;
const FLUSH_RETRY_MS = 5_000;
const ORPHAN_RETRY_MS = 3_600_000;

/**
 * Decides, for each event, which connectors get which rendered payload (issue #5). Every route
 * is compiled once — `match` to closures, `when` to a parsed CEL program, templates to LiquidJS
 * ASTs — and indexed by source and equality keys, so routing an event costs a few closure calls.
 */
export class Router {
  private readonly index: RouteIndex<CompiledRoute>;
  private readonly byName: Map<string, CompiledRoute>;
  private readonly groups: GroupStore;
  private readonly now: () => number;
  private digestHandler?: DigestHandler;
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<unknown>;

  private constructor(
    private readonly routes: readonly CompiledRoute[],
    /** Kept only so explanations can list them. */
    private readonly disabled: readonly DisabledRoute[],
    private readonly deps: RouterDeps,
  ) {
    this.index = new RouteIndex(routes);
    this.byName = new Map(routes.map((r) => [r.name, r]));
    this.groups = new GroupStore(deps.redis, deps.keyPrefix);
    this.now = deps.now ?? Date.now;
  }

  /**
   * Compiles every route once (see {@link compileRoutes}); throws one ConfigValidationError
   * listing every problem.
   */
  static compile(routes: readonly RouteConfig[], deps: RouterDeps): Router {
    const { routes: compiled, disabled } = compileRoutes(routes, deps);
    return new Router(compiled, disabled, deps);
  }

  /** The routes an event matches, in order, honouring `continue`. Pure and synchronous: the hot path. */
  match(event: BridgeEvent, nowMs = this.now()): readonly CompiledRoute[] {
    const candidates = this.index.candidates(event);
    let out: CompiledRoute[] | undefined;
    for (const r of candidates) {
      if (!this.test(r, event, nowMs)) continue;
      (out ??= []).push(r);
      if (!r.continue) break;
    }
    return out ?? EMPTY;
  }

  /** Names of the routes `event` matches (no side effects), e.g. for benchmarks and tests. */
  matchNames(event: BridgeEvent): string[] {
    return this.match(event).map((r) => r.name);
  }

  private test(r: CompiledRoute, event: BridgeEvent, nowMs: number): boolean {
    if (r.from && !r.from.has(event.source)) return false;
    const ms = r.matchers;
    for (let i = 0; i < ms.length; i++) if (!ms[i]!.test(event)) return false;
    if (r.schedule && !r.schedule.isActive(nowMs)) return false;
    if (r.condition) {
      const result = r.condition.evaluate(event);
      if (!result.ok) {
        metrics.conditionErrors.inc({ route: r.name });
        this.deps.logger.debug({ route: r.name, eventId: event.id, err: result.error }, 'route condition failed to evaluate; counted as no match');
        return false;
      }
      return result.value;
    }
    return true;
  }

  /** Decides deliveries for one event: throttle, dedupe, grouping and schedule applied; payloads rendered. */
  async route(event: BridgeEvent): Promise<RoutedDelivery[]> {
    const { deliveries, unrendered } = await this.routeWithFailures(event);
    for (const f of unrendered) this.deps.logger.error({ route: f.route, connector: f.connector, eventId: event.id, err: f.error }, 'payload failed to render; this delivery is skipped');
    return deliveries;
  }

  /**
   * {@link route}, plus the payloads that failed to render (logged and counted here; the pipeline
   * quarantines them). Throws {@link EventRoutingError} when matching the event fails, and whatever
   * Redis throws for throttle, dedupe and group state.
   */
  async routeWithFailures(event: BridgeEvent): Promise<RouteOutcome> {
    const nowMs = this.now();
    let matched: readonly CompiledRoute[];
    try {
      matched = this.match(event, nowMs);
    } catch (err) {
      throw new EventRoutingError(event.id, err);
    }
    const out: RoutedDelivery[] = [];
    const unrendered: RenderFailure[] = [];
    // An event no route matched is counted once, by the pipeline (mb_events_unrouted_total).
    if (matched.length === 0) return { deliveries: out, unrendered, matched: 0 };
    for (const r of matched) {
      metrics.matched.inc({ route: r.name });
      if (!r.throttle && !r.dedupe && !r.group) {
        this.render(r, event, out, unrendered);
        continue;
      }
      await this.applyStateful(r, event, nowMs, out, unrendered);
    }
    return { deliveries: out, unrendered, matched: matched.length };
  }

  private async applyStateful(r: CompiledRoute, event: BridgeEvent, nowMs: number, out: RoutedDelivery[], unrendered: RenderFailure[]): Promise<void> {
    if (r.throttle) {
      const key = this.renderKey(r, r.throttle.key, event);
      // A key that fails to render lets the event through: a missed throttle beats a lost alert.
      if (key !== undefined && !(await r.throttle.gate.allow(key, event.id))) {
        metrics.throttled.inc({ route: r.name });
        this.deps.logger.debug({ route: r.name, eventId: event.id, key }, 'throttled');
        return;
      }
    }
    if (r.group) {
      if (r.dedupe && !(await this.dedupeAllows(r, event, r.dedupe.key ? this.renderKey(r, r.dedupe.key, event) : event.data))) return;
      const added = await this.groups.add(r.name, groupKeyOf(r.group.by, event), event, r.group.settings, nowMs);
      if (added) metrics.grouped.inc({ route: r.name });
      return;
    }
    const rendered: RoutedDelivery[] = [];
    this.render(r, event, rendered, unrendered);
    if (r.dedupe) {
      const identity = r.dedupe.key ? this.renderKey(r, r.dedupe.key, event) : rendered.map((d) => [d.connector, d.payload]);
      if (!(await this.dedupeAllows(r, event, identity))) return;
    }
    out.push(...rendered);
  }

  private async dedupeAllows(r: CompiledRoute, event: BridgeEvent, identity: unknown): Promise<boolean> {
    if (identity === undefined) return true;
    const allowed = await r.dedupe!.gate.allow(typeof identity === 'string' ? identity : JSON.stringify(identity), event.id);
    if (!allowed) {
      metrics.deduped.inc({ route: r.name });
      this.deps.logger.debug({ route: r.name, eventId: event.id }, 'duplicate content dropped');
    }
    return allowed;
  }

  private renderKey(r: CompiledRoute, t: Template, event: BridgeEvent): string | undefined {
    try {
      return t.render(event);
    } catch (err) {
      metrics.renderErrors.inc({ route: r.name, connector: '' });
      this.deps.logger.warn({ route: r.name, eventId: event.id, template: t.source, err: errorMessage(err) }, 'key template failed to render; event not throttled/deduplicated');
      return undefined;
    }
  }

  /** Renders each target's payload; a payload that cannot render is counted and reported in `unrendered`, the others still go. */
  private render(r: CompiledRoute, event: BridgeEvent, out: RoutedDelivery[], unrendered: RenderFailure[]): void {
    for (const t of r.targets) {
      try {
        out.push({ event, route: r.name, connector: t.connector, payload: t.renderer.render(event) });
      } catch (err) {
        metrics.renderErrors.inc({ route: r.name, connector: t.connector });
        unrendered.push({ event, route: r.name, connector: t.connector, error: errorMessage(err) });
      }
    }
  }

  /** Pure dry run: every route, matched or why not, and the rendered payloads. Touches no Redis. */
  explain(event: BridgeEvent, options: { now?: number } = {}): RouteExplanation {
    const nowMs = options.now ?? this.now();
    const decisions: RouteDecision[] = [];
    const deliveries: RoutedDelivery[] = [];
    let stoppedBy: string | undefined;
    const all = [...this.routes.map((r) => ({ r, index: r.index })), ...this.disabled.map((d) => ({ r: undefined, index: d.index, d }))].sort((a, b) => a.index - b.index);
    for (const entry of all) {
      if (!entry.r) {
        const d = (entry as { d: { name: string; continue: boolean } }).d;
        decisions.push({ route: d.name, index: entry.index, status: 'disabled', reason: 'enabled: false', continue: d.continue, deliveries: [] });
        continue;
      }
      const r = entry.r;
      const why = this.whyNot(r, event, nowMs);
      const base = { route: r.name, index: r.index, continue: r.continue };
      if (stoppedBy !== undefined) {
        decisions.push({ ...base, status: 'not-reached', reason: `route "${stoppedBy}" matched first and has no continue: true`, wouldMatch: why === undefined, deliveries: [] });
        continue;
      }
      if (why) {
        decisions.push({ ...base, status: 'no-match', ...why, deliveries: [] });
        continue;
      }
      const decision: RouteDecision = { ...base, status: 'matched', deliveries: [] };
      if (r.throttle) decision.throttleKey = safeRender(r.throttle.key, event);
      if (r.dedupe?.key) decision.dedupeKey = safeRender(r.dedupe.key, event);
      const scope: BridgeEvent = r.group ? digestEvent(r.name, r.group.by, [event], nowMs) : event;
      if (r.group) decision.groupKey = groupValues(r.group.by, event);
      for (const t of r.targets) {
        try {
          const payload = t.renderer.render(scope);
          decision.deliveries.push({ connector: t.connector, payload });
          deliveries.push({ event: scope, route: r.name, connector: t.connector, payload });
        } catch (err) {
          decision.deliveries.push({ connector: t.connector, error: errorMessage(err) });
        }
      }
      decisions.push(decision);
      if (!r.continue) stoppedBy = r.name;
    }
    return { event, at: new Date(nowMs).toISOString(), routes: decisions, deliveries };
  }

  private whyNot(r: CompiledRoute, event: BridgeEvent, nowMs: number): Pick<RouteDecision, 'reason' | 'failed'> | undefined {
    if (r.from && !r.from.has(event.source)) return { reason: `from: source "${event.source}" is not one of ${[...r.from].join(', ')}` };
    for (const m of r.matchers) {
      if (!m.test(event)) {
        const actual = formatValue(m.get(event));
        return { reason: `match: ${m.path} is ${actual}, expected ${m.expected}`, failed: { field: m.path, expected: m.expected, actual } };
      }
    }
    if (r.schedule && !r.schedule.isActive(nowMs)) return { reason: `activeTimes: ${new Date(nowMs).toISOString()} is outside ${r.schedule.description}` };
    if (r.condition) {
      const result = r.condition.evaluate(event);
      if (!result.ok) return { reason: `when: ${r.condition.source} failed to evaluate (${result.error}); counted as no match` };
      if (!result.value) return { reason: `when: ${r.condition.source} is false` };
    }
    return undefined;
  }

  /** Group digests become due later: the router hands their deliveries (and payloads that failed to render) to this handler. */
  onDigest(handler: DigestHandler): void {
    this.digestHandler = handler;
  }

  /** Starts the digest flush timer. */
  start(): void {
    if (this.timer) return;
    if (!this.routes.some((r) => r.group)) return;
    this.timer = setInterval(() => {
      if (this.flushing) return;
      this.flushing = this.flushDue()
        .catch((err: unknown) => this.deps.logger.error({ err: errorMessage(err) }, 'group digest flush failed; will retry'))
        .finally(() => (this.flushing = undefined));
    }, this.deps.flushEveryMs ?? 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flushing;
  }

  /** Flushes every group digest that is due now (also called by the timer). Returns the number of digests handed on. */
  async flushDue(): Promise<number> {
    const handler = this.digestHandler;
    if (!handler) return 0;
    const nowMs = this.now();
    const pending = await this.groups.claimDue(nowMs, FLUSH_LEASE_MS, (name) => this.byName.get(name)?.group?.settings.max ?? 100);
    let flushed = 0;
    for (const g of pending) {
      const r = this.byName.get(g.route);
      if (!r?.group) {
        // Keep the events: the route may come back with the next config.
        this.deps.logger.warn({ route: g.route, events: g.events.length }, 'pending group digest for a route that no longer exists or no longer groups; kept, retried hourly');
        await this.groups.reschedule(g, nowMs + ORPHAN_RETRY_MS);
        continue;
      }
      if (await this.flushGroup(r, g, handler, nowMs)) flushed++;
    }
    return flushed;
  }

  private async flushGroup(r: CompiledRoute, g: PendingGroup, handler: DigestHandler, nowMs: number): Promise<boolean> {
    const settings = r.group!.settings;
    if (g.events.length === 0) {
      await this.groups.complete(g, 0, settings, nowMs);
      return false;
    }
    const digest = digestEvent(r.name, r.group!.by, g.events, nowMs);
    const deliveries: RoutedDelivery[] = [];
    const unrendered: RenderFailure[] = [];
    this.render(r, digest, deliveries, unrendered);
    try {
      await handler(deliveries, unrendered);
    } catch (err) {
      this.deps.logger.error({ route: r.name, events: g.events.length, err: errorMessage(err) }, 'group digest handler failed; retrying shortly');
      await this.groups.reschedule(g, nowMs + FLUSH_RETRY_MS);
      return false;
    }
    await this.groups.complete(g, g.events.length, settings, nowMs);
    metrics.digests.inc({ route: r.name });
    return true;
  }

  /** Pending groups in Redis (due or being flushed). */
  pendingGroups(): Promise<number> {
    return this.groups.pendingCount();
  }

  /** The index path chosen per source (`*` = events from sources no route names). */
  indexDescription(): Record<string, string | null> {
    return this.index.describe();
  }
}

function groupValues(by: readonly { path: string; get: FieldGetter }[], event: BridgeEvent): Record<string, unknown> {
  return Object.fromEntries(by.map((b) => [b.path, b.get(event) ?? null]));
}

function groupKeyOf(by: readonly { path: string; get: FieldGetter }[], event: BridgeEvent): string {
  return JSON.stringify(by.map((b) => b.get(event) ?? null));
}

/** The digest's id is stable for the same first event, so a re-flush after a crash is one job. */
function digestEvent(route: string, by: readonly { path: string; get: FieldGetter }[], events: BridgeEvent[], nowMs: number): DigestEvent {
  const first = events[0]!;
  return {
    id: `${first.source}:digest:${route}/${first.id}`,
    source: first.source,
    kind: 'digest',
    time: new Date(nowMs).toISOString(),
    data: { ...(isRecord(first.data) ? first.data : {}), route, group: groupValues(by, first), count: events.length, events },
    events,
  };
}

function safeRender(t: Template, event: BridgeEvent): string {
  try {
    return t.render(event);
  } catch (err) {
    return `(render error: ${errorMessage(err)})`;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
