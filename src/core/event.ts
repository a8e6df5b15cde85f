/**
 * The one shape every upstream item takes inside the bridge (PRODUCT.md §4).
 * Sources create events; the router, queue and connectors only read them.
 */
export interface BridgeEvent<TData = unknown> {
  /** Stable and unique: `<source>:<kind>:<upstream id>`. The deduplication key. */
  id: string;
  /** The source's name in config. */
  source: string;
  /** `moment` | `trigger.created` | `trigger.updated` | `observer.row` | … */
  kind: string;
  /** ISO-8601, from upstream when it has one. */
  time: string;
  /** The upstream object, already validated by the source. */
  data: TData;
  /**
   * How to show the event, filled by the source that knows its shape, so a connector's default
   * layout (a Slack message, a PagerDuty alert) needs no knowledge of any source. Without it a
   * layout falls back to the kind, source and id.
   */
  summary?: EventSummary;
}

/** One fact of an {@link EventSummary}: a label and the upstream value (layouts format it). */
export interface EventSummaryField {
  label: string;
  value: unknown;
}

/** A source's description of one event for people (see {@link BridgeEvent.summary}). */
export interface EventSummary {
  /** What happened, in a few words: a message header, an alert title (a moment: its trigger's name). */
  title: string;
  /** The upstream's own sentence about it, when it has one (a moment's text). */
  text?: string;
  /** One line for notification previews; without it, `title: text` (or the title alone). */
  headline?: string;
  /** The facts worth showing, in order. */
  fields?: EventSummaryField[];
  /** What the fields are, for the "More …" entry when a layout has no room for all of them. @defaultValue fields */
  fieldsName?: string;
  /** A colour the upstream gave the item (a trigger's marker: red, orange…), for layouts that show one. */
  color?: string;
  /** Short references shown small beneath it: where it came from, its upstream id, its time. @defaultValue the event id and time */
  context?: string[];
  /**
   * Events with the same key are repeats of one thing (a moment: one trigger, athlete and event);
   * a sink that folds repeats into one alert keys on it. @defaultValue the event id
   */
  groupKey?: string;
}

export function eventId(source: string, kind: string, upstreamId: string | number): string {
  return `${source}:${kind}:${upstreamId}`;
}
