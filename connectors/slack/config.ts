import { z } from 'zod';
import { durationMsField } from '../../src/core/duration-field.js';
import { secretString } from '../../src/core/secret-field.js';

/** Keys a route may override per target: `to: [{ connector: ops-slack, channel: "#x" }]`. */
export const slackOverridesSchema = z
  .strictObject({
    channel: z.string().min(1).optional().describe('Channel name (`#ops`) or ID for this route; a template.'),
    text: z.string().optional().describe('Message text template for this route (also the notification fallback when blocks are set).'),
    blocks: z.array(z.unknown()).optional().describe('Block Kit blocks for this route: a JSON array whose strings are templates.'),
    username: z.string().optional().describe('Bot display name for this route (needs `chat:write.customize`).'),
    iconEmoji: z.string().optional().describe('Bot icon emoji for this route, e.g. `:rotating_light:`.'),
    iconUrl: z.string().url().optional().describe('Bot icon image URL for this route.'),
    threadBy: z.string().optional().describe('Thread key template for this route: messages with the same key go into one thread.'),
  })
  .describe('Per-route overrides of a Slack connector.');
export type SlackOverrides = z.output<typeof slackOverridesSchema>;

export const slackConfigSchema = z.strictObject({
  type: z.literal('slack').describe('Posts messages with chat.postMessage (Slack Web API).'),
  token: secretString('Bot token (`xoxb-…`) with the `chat:write` scope'),
  apiUrl: z
    .string()
    .url()
    .refine((u) => u.endsWith('/'), 'apiUrl must end with "/" (the client appends the method name, e.g. chat.postMessage)')
    .default('https://slack.com/api/')
    .describe('Base URL of the Slack Web API; must end with `/`. For proxies and tests. @defaultValue https://slack.com/api/'),
  channel: z
    .string()
    .min(1)
    .optional()
    .describe('Default channel name (`#ops`) or ID (`C0123…`); a template. A route can override it; one of the two is required.'),
  text: z
    .string()
    .optional()
    .describe('Message text template. Values interpolated from the event are escaped for mrkdwn already. @defaultValue a one-line summary of the event'),
  blocks: z
    .array(z.unknown())
    .optional()
    .describe(
      'Block Kit blocks: a JSON array whose strings are templates. @defaultValue a layout for moments (trigger, marker, athlete, event, matched metrics) and Observer rows',
    ),
  username: z.string().optional().describe('Bot display name (needs the `chat:write.customize` scope).'),
  iconEmoji: z.string().optional().describe('Bot icon emoji, e.g. `:rotating_light:`.'),
  iconUrl: z.string().url().optional().describe('Bot icon image URL.'),
  threadBy: z
    .string()
    .optional()
    .describe('Thread key template, e.g. `{{ data.eventId }}`: the first message per key starts a thread, later ones reply in it (thread ts kept in Redis).'),
  threadTtl: durationMsField('How long a thread key is remembered after its last message', '7d'),
});
export type SlackConfig = z.output<typeof slackConfigSchema>;
