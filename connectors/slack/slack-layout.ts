import type { BridgeEvent } from '../../src/core/event.js';
import { escapeMrkdwn } from '../../src/templates/template-engine.js';

/**
 * The default Slack message for an event when the connector has no `text`/`blocks` templates:
 * a Block Kit layout for moments and Observer rows, a JSON dump for anything else. Every
 * upstream string is escaped for mrkdwn, and every piece is cut to Block Kit's limits, so the
 * default layout can always be sent.
 */

/** Block Kit limits (https://docs.slack.dev/reference/block-kit/blocks). */
export const SLACK_LIMITS = {
  /** chat.postMessage truncates longer text; above this Slack answers `msg_too_long`. */
  textChars: 40_000,
  blocks: 50,
  headerChars: 150,
  sectionTextChars: 3_000,
  sectionFields: 10,
  fieldChars: 2_000,
  contextElements: 10,
} as const;

interface MomentMatch {
  metric?: unknown;
  subMetric?: unknown;
  value?: unknown;
}

interface MomentData {
  publicId?: unknown;
  triggerPublicId?: unknown;
  triggerName?: unknown;
  triggerMarker?: unknown;
  athleteId?: unknown;
  eventId?: unknown;
  moment?: unknown;
  matches?: unknown;
  createdAt?: unknown;
}

export type SlackBlock = Record<string, unknown>;

const MARKER_EMOJI: Record<string, string> = {
  red: ':red_circle:',
  orange: ':large_orange_circle:',
  yellow: ':large_yellow_circle:',
  green: ':large_green_circle:',
  blue: ':large_blue_circle:',
  purple: ':large_purple_circle:',
  brown: ':large_brown_circle:',
  black: ':black_circle:',
  white: ':white_circle:',
};

export function defaultText(event: BridgeEvent): string {
  const data = asRecord(event.data);
  if (event.kind === 'moment') {
    const m = data as MomentData;
    const title = str(m.triggerName) || 'Moment';
    const body = str(m.moment);
    return cut(escapeMrkdwn(body ? `${title}: ${body}` : title), SLACK_LIMITS.textChars);
  }
  if (event.kind === 'observer.row') return cut(escapeMrkdwn(`Observer row from ${event.source}`), SLACK_LIMITS.textChars);
  return cut(escapeMrkdwn(`${event.kind} from ${event.source}`), SLACK_LIMITS.textChars);
}

export function defaultBlocks(event: BridgeEvent): SlackBlock[] {
  if (event.kind === 'moment') return momentBlocks(event);
  if (event.kind === 'observer.row') return observerRowBlocks(event);
  return genericBlocks(event);
}

function momentBlocks(event: BridgeEvent): SlackBlock[] {
  const m = asRecord(event.data) as MomentData;
  const marker = str(m.triggerMarker);
  const emoji = MARKER_EMOJI[marker.toLowerCase()];
  const blocks: SlackBlock[] = [header(`${emoji ? `${emoji} ` : ''}${str(m.triggerName) || 'Moment'}`)];
  if (str(m.moment)) blocks.push(section(escapeMrkdwn(str(m.moment))));
  const fields = [field('Athlete', str(m.athleteId)), field('Event', str(m.eventId))];
  if (marker) fields.push(field('Marker', marker));
  const matches = Array.isArray(m.matches) ? (m.matches as MomentMatch[]) : [];
  const room = SLACK_LIMITS.sectionFields - fields.length;
  const shown = matches.length > room ? room - 1 : matches.length;
  for (const match of matches.slice(0, shown)) {
    const name = [str(match?.metric), str(match?.subMetric)].filter(Boolean).join(' / ') || 'metric';
    fields.push(field(name, formatValue(match?.value)));
  }
  if (matches.length > shown) fields.push(field('More matches', String(matches.length - shown)));
  blocks.push({ type: 'section', fields });
  blocks.push(context([event.source, str(m.publicId) && `moment ${str(m.publicId)}`, str(m.createdAt) || event.time]));
  return blocks;
}

function observerRowBlocks(event: BridgeEvent): SlackBlock[] {
  const data = asRecord(event.data);
  const entries = Object.entries(data).filter(([, v]) => v !== undefined && v !== null);
  const max = SLACK_LIMITS.sectionFields;
  const shown = entries.length > max ? max - 1 : entries.length;
  const fields = entries.slice(0, shown).map(([k, v]) => field(k, formatValue(v)));
  if (entries.length > shown) fields.push(field('More fields', String(entries.length - shown)));
  const blocks: SlackBlock[] = [header(`Observer: ${event.source}`)];
  if (fields.length > 0) blocks.push({ type: 'section', fields });
  blocks.push(context([event.kind, event.id, event.time]));
  return blocks;
}

function genericBlocks(event: BridgeEvent): SlackBlock[] {
  const json = JSON.stringify(event.data, null, 2) ?? 'null';
  return [
    header(`${event.kind} from ${event.source}`),
    section(cut(`\`\`\`${escapeMrkdwn(json)}`, SLACK_LIMITS.sectionTextChars - 3) + '```'),
    context([event.id, event.time]),
  ];
}

/** plain_text is shown verbatim by Slack (no links, no mentions), so it is cut but not escaped. */
function header(text: string): SlackBlock {
  return { type: 'header', text: { type: 'plain_text', text: cut(text, SLACK_LIMITS.headerChars), emoji: true } };
}

function section(mrkdwn: string): SlackBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: cut(mrkdwn, SLACK_LIMITS.sectionTextChars) } };
}

function field(label: string, value: string): { type: 'mrkdwn'; text: string } {
  return { type: 'mrkdwn', text: cut(`*${escapeMrkdwn(label)}*\n${escapeMrkdwn(value || '–')}`, SLACK_LIMITS.fieldChars) };
}

function context(parts: string[]): SlackBlock {
  const text = parts.filter(Boolean).map(escapeMrkdwn).join(' · ');
  return { type: 'context', elements: [{ type: 'mrkdwn', text: cut(text, SLACK_LIMITS.sectionTextChars) }] };
}

function formatValue(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : String(Math.round(value * 100) / 100);
  if (typeof value === 'string' || typeof value === 'boolean') return String(value);
  return cut(JSON.stringify(value), 200);
}

function str(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** Cuts to `max` characters with an ellipsis; never splits an `&amp;`-style escape. */
export function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const amp = text.lastIndexOf('&', end);
  if (amp !== -1 && amp > end - 5 && text.indexOf(';', amp) >= end) end = amp;
  return `${text.slice(0, end)}…`;
}
