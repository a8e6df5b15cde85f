import type { BridgeEvent } from '../core/event.js';
import type { Logger } from '../core/log.js';
import { counter } from '../core/metrics.js';
import { digestEvent } from './digest-event.js';
import type { GroupStore, PendingGroup } from './grouping.js';
import { renderTargets, type RenderFailure, type RoutedDelivery } from './render-targets.js';
import type { CompiledRoute } from './route-compiler.js';

/** A group whose digest is due, claimed (leased) by this replica until completed or rescheduled. */
export interface DueDigest {
  readonly route: string;
  readonly events: readonly BridgeEvent[];
  /** The clock when it was claimed: the digest's time and the base of its next schedule. */
  readonly claimedAtMs: number;
  readonly group: PendingGroup;
}

/** One digest rendered for its route's connectors. */
export interface RenderedDigest {
  deliveries: RoutedDelivery[];
  unrendered: RenderFailure[];
}

/** A flush that has not completed within this time is taken over by another replica. */
const FLUSH_LEASE_MS = 60_000;
const ORPHAN_RETRY_MS = 3_600_000;

const digestsFlushed = counter('mb_route_digests_total', 'Group digests flushed.', ['route']);

/**
 * The routing side of group digests: what a digest stage needs to claim due groups, render one
 * group's digest, and complete or reschedule it. Routing owns the groups (Redis state, the
 * routes' settings, templates); when and to whom digests go is the pipeline's business.
 */
export class GroupDigests {
  constructor(
    private readonly byName: ReadonlyMap<string, CompiledRoute>,
    private readonly store: GroupStore,
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {}

  /** Whether any route groups: without one, there is never a digest to flush. */
  get grouping(): boolean {
    for (const r of this.byName.values()) if (r.group) return true;
    return false;
  }

  /**
   * Claims the groups due now, leased so another replica does not flush them too (a lease that
   * lapses — a crash mid-flush — lets one take over). A group whose route is gone or no longer
   * groups is kept and retried hourly (the route may come back with the next config); an empty
   * one is completed. Neither is returned.
   */
  async claimDue(): Promise<DueDigest[]> {
    const nowMs = this.now();
    const pending = await this.store.claimDue(nowMs, FLUSH_LEASE_MS, (name) => this.byName.get(name)?.group?.settings.max ?? 100);
    const due: DueDigest[] = [];
    for (const g of pending) {
      const r = this.byName.get(g.route);
      if (!r?.group) {
        this.logger.warn(
          { route: g.route, events: g.events.length },
          'pending group digest for a route that no longer exists or no longer groups; kept, retried hourly',
        );
        await this.store.reschedule(g, nowMs + ORPHAN_RETRY_MS);
      } else if (g.events.length === 0) {
        await this.store.complete(g, 0, r.group.settings, nowMs);
      } else {
        due.push({ route: g.route, events: g.events, claimedAtMs: nowMs, group: g });
      }
    }
    return due;
  }

  /** The digest's deliveries (its id is stable for the same first event, so a re-flush is one job) and the payloads that failed to render. */
  render(d: DueDigest): RenderedDigest {
    const r = this.groupedRoute(d);
    const out: RenderedDigest = { deliveries: [], unrendered: [] };
    renderTargets(r, digestEvent(r.name, r.group.by, [...d.events], d.claimedAtMs), out.deliveries, out.unrendered);
    return out;
  }

  /** The digest was handed on: trim its events, schedule what is left `interval` later. */
  async complete(d: DueDigest): Promise<void> {
    await this.store.complete(d.group, d.events.length, this.groupedRoute(d).group.settings, d.claimedAtMs);
    digestsFlushed.inc({ route: d.route });
  }

  /** Handing the digest on failed: release the claim, due again at `retryAtMs`. */
  async reschedule(d: DueDigest, retryAtMs: number): Promise<void> {
    await this.store.reschedule(d.group, retryAtMs);
  }

  private groupedRoute(d: DueDigest): CompiledRoute & { group: NonNullable<CompiledRoute['group']> } {
    // claimDue only returns groups of grouped routes, and a Router's routes never change.
    return this.byName.get(d.route) as CompiledRoute & { group: NonNullable<CompiledRoute['group']> };
  }
}
