import { BridgeError, errorMessage } from '../core/errors.js';
import type { BridgeEvent } from '../core/event.js';
import type { Logger } from '../core/log.js';
import { counter } from '../core/metrics.js';
import type { Template } from '../templates/template-engine.js';
import { groupKeyOf } from './digest-event.js';
import { GroupDigests } from './group-digests.js';
import { GroupStore } from './grouping.js';
import { renderErrors, renderTargets, type RenderFailure, type RoutedDelivery } from './render-targets.js';
import { explainRoutes, type RouteExplanation } from './route-explainer.js';
import { isConditionFailure, routeMiss } from './route-predicates.js';
import { compileRoutes, type CompiledRoute, type DisabledRoute, type RouteCompileDeps } from './route-compiler.js';
import { RouteIndex } from './route-index.js';
import type { RouteConfig } from './route-schema.js';

// Where src/queue/routed-delivery.ts (and older callers) read the delivery types.

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
}

/** What routing one event came to (see {@link Router.routeWithFailures}). */
export interface RouteOutcome {
  deliveries: RoutedDelivery[];
  unrendered: RenderFailure[];
  /** How many routes matched. 0: the event is unrouted; a throttled, deduplicated or grouped event matched but yields no delivery now. */
  matched: number;
}

const metrics = {
  matched: counter('mb_route_matched_total', 'Events matched by a route.', ['route']),
  throttled: counter('mb_route_throttled_total', 'Events held back by a route throttle.', ['route']),
  deduped: counter('mb_route_deduped_total', 'Events dropped as duplicates by a route dedupe.', ['route']),
  grouped: counter('mb_route_grouped_total', 'Events added to a pending group digest.', ['route']),
  conditionErrors: counter('mb_route_condition_errors_total', 'CEL `when` evaluations that failed (counted as no match).', ['route']),
};

const EMPTY: readonly never[] = Object.freeze([]);

/**
 * Decides, for each event, which connectors get which rendered payload (issue #5). Every route
 * is compiled once — `match` to closures, `when` to a parsed CEL program, templates to LiquidJS
 * ASTs — and indexed by source and equality keys, so routing an event costs a few closure calls.
 */
export class Router {
  private readonly index: RouteIndex<CompiledRoute>;
  private readonly groups: GroupStore;
  private readonly now: () => number;
  /** The groups this router fills, for the pipeline's digest stage to flush when due. */
  readonly digests: GroupDigests;

  private constructor(
    private readonly routes: readonly CompiledRoute[],
    /** Kept only so explanations can list them. */
    private readonly disabled: readonly DisabledRoute[],
    private readonly deps: RouterDeps,
  ) {
    this.index = new RouteIndex(routes);
    this.groups = new GroupStore(deps.redis, deps.keyPrefix);
    this.now = deps.now ?? Date.now;
    this.digests = new GroupDigests(new Map(routes.map((r) => [r.name, r])), this.groups, deps.logger, this.now);
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
      if (!this.matches(r, event, nowMs)) continue;
      (out ??= []).push(r);
      if (!r.continue) break;
    }
    return out ?? EMPTY;
  }

  /** Names of the routes `event` matches (no side effects), e.g. for benchmarks and tests. */
  matchNames(event: BridgeEvent): string[] {
    return this.match(event).map((r) => r.name);
  }

  /** The hot-path verdict: the shared predicates, plus counting and logging a `when` that failed to evaluate. */
  private matches(r: CompiledRoute, event: BridgeEvent, nowMs: number): boolean {
    const miss = routeMiss(r, event, nowMs);
    if (miss === undefined) return true;
    if (isConditionFailure(miss)) {
      metrics.conditionErrors.inc({ route: r.name });
      this.deps.logger.debug({ route: r.name, eventId: event.id, err: miss.error }, 'route condition failed to evaluate; counted as no match');
    }
    return false;
  }

  /** Decides deliveries for one event: throttle, dedupe, grouping and schedule applied; payloads rendered. */
  async route(event: BridgeEvent): Promise<RoutedDelivery[]> {
    const { deliveries, unrendered } = await this.routeWithFailures(event);
    for (const f of unrendered)
      this.deps.logger.error({ route: f.route, connector: f.connector, eventId: event.id, err: f.error }, 'payload failed to render; this delivery is skipped');
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
    // Stryker disable next-line ConditionalExpression: a shortcut; the loop below over no route returns the same (equivalent)
    if (matched.length === 0) return { deliveries: out, unrendered, matched: 0 };
    for (const r of matched) {
      metrics.matched.inc({ route: r.name });
      // Stryker disable next-line ConditionalExpression,BlockStatement: the fast path for stateless routes; applyStateful renders the same deliveries for them (equivalent)
      if (!r.throttle && !r.dedupe && !r.group) {
        renderTargets(r, event, out, unrendered);
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
    renderTargets(r, event, rendered, unrendered);
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
      // The counter render-targets.ts counts payloads on: a key is a render too.
      renderErrors.inc({ route: r.name, connector: '' });
      this.deps.logger.warn(
        { route: r.name, eventId: event.id, template: t.source, err: errorMessage(err) },
        'key template failed to render; event not throttled/deduplicated',
      );
      return undefined;
    }
  }

  /** Pure dry run: every route, matched or why not, and the rendered payloads. Touches no Redis. */
  explain(event: BridgeEvent, options: { now?: number } = {}): RouteExplanation {
    return explainRoutes(this.routes, this.disabled, event, options.now ?? this.now());
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
