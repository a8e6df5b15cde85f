import type { BridgeEvent, EventSummary } from '../../src/core/event.js';
import { escapeMrkdwn } from '../../src/templates/template-engine.js';

/**
 * The default Slack message for an event when the connector has no `text`/`blocks` templates:
 * a Block Kit layout of the summary its source gave it (title, text, fields), a JSON dump for an
 * event without one. Every
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

export type SlackBlock = Record<string, unknown>;

const COLOR_EMOJI: Record<string, string> = {
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
  const summary = event.summary;
  if (!summary) return cut(escapeMrkdwn(`${event.kind} from ${event.source}`), SLACK_LIMITS.textChars);
  const line = summary.headline ?? (summary.text ? `${summary.title}: ${summary.text}` : summary.title);
  return cut(escapeMrkdwn(line), SLACK_LIMITS.textChars);
}

export function defaultBlocks(event: BridgeEvent): SlackBlock[] {
  return event.summary ? summaryBlocks(event, event.summary) : genericBlocks(event);
}

/** Header (with the item's colour as an emoji), the upstream's sentence, the fields, the references. */
function summaryBlocks(event: BridgeEvent, summary: EventSummary): SlackBlock[] {
  const emoji = summary.color ? COLOR_EMOJI[summary.color.toLowerCase()] : undefined;
  const blocks: SlackBlock[] = [header(`${emoji ? `${emoji} ` : ''}${summary.title}`)];
  if (summary.text) blocks.push(section(escapeMrkdwn(summary.text)));
  const entries = summary.fields ?? [];
  const max = SLACK_LIMITS.sectionFields;
  const shown = entries.length > max ? max - 1 : entries.length;
  const fields = entries.slice(0, shown).map((f) => field(f.label, formatValue(f.value)));
  if (entries.length > shown) fields.push(field(`More ${summary.fieldsName ?? 'fields'}`, String(entries.length - shown)));
  if (fields.length > 0) blocks.push({ type: 'section', fields });
  blocks.push(context(summary.context ?? [event.id, event.time]));
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

/** Cuts to `max` characters with an ellipsis; never splits an `&amp;`-style escape. */
export function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const amp = text.lastIndexOf('&', end);
  if (amp !== -1 && amp > end - 5 && text.indexOf(';', amp) >= end) end = amp;
  return `${text.slice(0, end)}…`;
}
