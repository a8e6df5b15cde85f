import type { BridgeEvent } from '../core/event.js';
import type { EventFeeder } from './event-feeder.js';
import { ProgressReporter } from './progress-reporter.js';

/** One input item: an event, or a problem with the input at `where` (skipped, reported). */
export type FeedItem = { where: string; event: BridgeEvent } | { where: string; error: string };

export interface FeedSummary {
  events: number;
  enqueued: number;
  duplicates: number;
  /** Events no selected route delivered (no match, throttled, grouped). */
  noDelivery: number;
  /** Input problems (bad lines), reported and skipped. */
  invalid: number;
  /** Events of other sources than `sources`. */
  filtered: number;
  /** Dry run with `json`: each event's decision, in input order. */
  decisions?: FeedDecision[];
}

export interface FeedDecision {
  where: string;
  eventId: string;
  deliveries: { route: string; connector: string }[];
}

type Out = Pick<NodeJS.WriteStream, 'write'>;

export interface RunFeedOptions {
  label: string;
  total?: number;
  dryRun: boolean;
  /** Only events of these sources. */
  sources?: string[];
  /** Decisions (dry run) and the summary. @defaultValue process.stdout */
  out?: Out;
  /** Print nothing on `out`: the caller prints the returned summary (with a dry run's decisions) as JSON. @defaultValue false */
  json?: boolean;
  /** Progress and input problems. @defaultValue process.stderr */
  err?: NodeJS.WriteStream;
}

/** Feeds items one by one, in order, reporting progress; a dry run prints one decision line per event. */
export async function runFeed(feeder: EventFeeder, items: AsyncIterable<FeedItem>, o: RunFeedOptions): Promise<FeedSummary> {
  const out = o.out ?? process.stdout;
  const err = o.err ?? process.stderr;
  const sum: FeedSummary = { events: 0, enqueued: 0, duplicates: 0, noDelivery: 0, invalid: 0, filtered: 0, ...(o.dryRun && o.json ? { decisions: [] } : {}) };
  const progress = o.dryRun ? undefined : new ProgressReporter({ label: o.label, ...(o.total !== undefined ? { total: o.total } : {}), stream: err });
  const report = () =>
    progress?.update({
      done: sum.events + sum.invalid + sum.filtered,
      enqueued: sum.enqueued,
      duplicates: sum.duplicates,
      skipped: sum.invalid + sum.filtered,
    });
  try {
    for await (const item of items) {
      if ('error' in item) {
        sum.invalid++;
        err.write(`${item.where}: skipped: ${item.error}\n`);
        report();
        continue;
      }
      const { event } = item;
      if (o.sources?.length && !o.sources.includes(event.source)) {
        sum.filtered++;
        report();
        continue;
      }
      const r = await feeder.feed(event);
      sum.events++;
      sum.enqueued += r.enqueued;
      sum.duplicates += r.duplicates;
      if (r.deliveries.length === 0) sum.noDelivery++;
      if (sum.decisions)
        sum.decisions.push({ where: item.where, eventId: event.id, deliveries: r.deliveries.map((d) => ({ route: d.route, connector: d.connector })) });
      else if (o.dryRun) {
        const to = r.deliveries.length ? r.deliveries.map((d) => `${d.route} → ${d.connector}`).join(', ') : 'no route';
        out.write(`${item.where}  ${event.id}  ${to}\n`);
      }
      report();
    }
  } finally {
    progress?.finish();
  }
  if (o.json) return sum;
  out.write(
    o.dryRun
      ? `dry run: ${sum.events} event(s), ${sum.events - sum.noDelivery} would be delivered, ${sum.noDelivery} match no route, ${sum.invalid + sum.filtered} skipped; nothing was queued\n`
      : `${o.label}: ${sum.events} event(s): ${sum.enqueued} deliveries enqueued, ${sum.duplicates} already queued or delivered (duplicates), ${sum.noDelivery} with no delivery (no route, throttled or grouped), ${sum.invalid} invalid, ${sum.filtered} of other sources\n`,
  );
  return sum;
}
