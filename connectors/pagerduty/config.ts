import { z } from 'zod';
import { secretString } from '../../src/core/secret-field.js';

const link = z
  .strictObject({
    href: z.string().min(1).describe('Link URL; a template.'),
    text: z.string().optional().describe('Link text; a template.'),
  })
  .describe('A link shown on the alert.');

const image = z
  .strictObject({
    src: z.string().min(1).describe('Image URL (HTTPS); a template.'),
    href: z.string().optional().describe('Where clicking the image goes; a template.'),
    alt: z.string().optional().describe('Alternative text; a template.'),
  })
  .describe('An image shown on the alert.');

/** The event fields a connector sets and a route may override (all templates). */
const eventFields = {
  eventAction: z
    .enum(['trigger', 'acknowledge', 'resolve'])
    .optional()
    .describe('`trigger` opens (or adds to) an alert; `acknowledge`/`resolve` act on the alert with the same dedup key. @defaultValue trigger'),
  dedupKey: z
    .string()
    .optional()
    .describe(
      'Dedup key template (≤255 characters): events with the same key group into one alert. @defaultValue moments: `moment:<trigger>:<athlete>:<event>`; other events: the event id',
    ),
  summary: z.string().optional().describe('Alert summary template (cut to 1024 characters). @defaultValue the moment text, or kind and source'),
  source: z.string().optional().describe('`payload.source` template: the affected system. @defaultValue the event source name'),
  severity: z.string().optional().describe('`critical`, `error`, `warning` or `info`; a template that must render to one of those. @defaultValue error'),
  component: z.string().optional().describe('`payload.component` template.'),
  group: z.string().optional().describe('`payload.group` template.'),
  class: z.string().optional().describe('`payload.class` template.'),
  customDetails: z.unknown().optional().describe('`payload.custom_details`: any JSON whose strings are templates. @defaultValue the event data'),
  links: z.array(link).optional().describe('Links on the alert.'),
  images: z.array(image).optional().describe('Images on the alert.'),
};

export const pagerdutyOverridesSchema = z.strictObject(eventFields).describe('Per-route overrides of a PagerDuty connector.');
export type PagerdutyOverrides = z.output<typeof pagerdutyOverridesSchema>;

export const pagerdutyConfigSchema = z.strictObject({
  type: z.literal('pagerduty').describe('Sends alert events with the PagerDuty Events API v2.'),
  routingKey: secretString('Integration key of the Events API v2 integration on a PagerDuty service'),
  url: z
    .string()
    .url()
    .default('https://events.pagerduty.com/v2/enqueue')
    .describe('Events API v2 endpoint (EU accounts: https://events.eu.pagerduty.com/v2/enqueue). @defaultValue https://events.pagerduty.com/v2/enqueue'),
  client: z.string().default('moments-bridge').describe('Name of the monitoring client shown on the alert. @defaultValue moments-bridge'),
  clientUrl: z.string().url().optional().describe('URL of the monitoring client, linked from the alert.'),
  ...eventFields,
});
export type PagerdutyConfig = z.output<typeof pagerdutyConfigSchema>;
