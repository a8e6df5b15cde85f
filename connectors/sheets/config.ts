import { z } from 'zod';
import { durationMsField } from '../../src/core/duration-field.js';
import { secretString } from '../../src/core/secret-field.js';

/**
 * Google Sheets connector config: one connector writes rows to one sheet (tab) of one spreadsheet.
 * See https://developers.google.com/workspace/sheets/api/reference/rest for the API it uses.
 */
export const sheetsConfigSchema = z
  .object({
    type: z.literal('sheets').describe('Connector type.'),
    spreadsheetId: z.string().min(1).describe('The spreadsheet id (the long id in the spreadsheet URL, between /d/ and /edit).'),
    sheet: z.string().min(1).default('Sheet1').describe('Title of the sheet (tab) rows go to; created with a header row when missing. @defaultValue Sheet1'),
    columns: z
      .record(z.string().min(1), z.string())
      .refine((c) => Object.keys(c).length > 0, 'list at least one column: header → template')
      .describe(
        'Ordered map of column header → template rendered over the event, e.g. { Moment: "{{ data.moment }}" }. Columns are matched to the sheet by header, so reordering them in the sheet is safe.',
      ),
    key: z
      .string()
      .min(1)
      .optional()
      .describe('Template for the row identity (e.g. "{{ data.publicId }}"). Required for mode upsert; written to the `keyColumn` column.'),
    keyColumn: z
      .string()
      .min(1)
      .default('Key')
      .describe('Header of the column that holds the rendered `key` in upsert mode; the row index is rebuilt from it on start. @defaultValue Key'),
    mode: z
      .enum(['append', 'upsert'])
      .default('append')
      .describe(
        'append: every delivery adds a row. upsert: a delivery whose key already has a row updates that row, so a re-run or replay never duplicates rows. @defaultValue append',
      ),
    deliveryIdColumn: z
      .union([z.string().min(1), z.literal(false)])
      .default('_delivery')
      .describe(
        "append mode: header of a column that holds each row's delivery id. When a write may have landed without an answer (timeout, reset, 5xx), the retry reads this column back and appends only the rows that are missing, so a lost answer never duplicates rows. false turns it off (a retry after a lost answer may then duplicate the batch). @defaultValue _delivery",
      ),
    serviceAccountKey: secretString(
      'Service-account key JSON, e.g. "${GOOGLE_SA_KEY}" or { file: /run/secrets/sa.json }; its token_uri is honoured. Share the spreadsheet with its client_email as an editor',
    ).optional(),
    accessToken: secretString(
      'A pre-issued OAuth 2 access token with the spreadsheets scope (tests, short jobs). Without it and without serviceAccountKey, Application Default Credentials are used',
    ).optional(),
    scopes: z
      .array(z.string().min(1))
      .default(['https://www.googleapis.com/auth/spreadsheets'])
      .describe(
        'OAuth scopes requested for the service account (a JWT without scopes sends no Authorization). @defaultValue [https://www.googleapis.com/auth/spreadsheets]',
      ),
    rootUrl: z
      .url()
      .default('https://sheets.googleapis.com/')
      .describe('Base URL of the Sheets API (proxies, tests); a path prefix is kept. @defaultValue https://sheets.googleapis.com/'),
    valueInputOption: z
      .enum(['RAW', 'USER_ENTERED'])
      .default('RAW')
      .describe(
        'RAW stores values as given; USER_ENTERED parses them like typed input — which also turns upstream text starting with "=" into formulas. @defaultValue RAW',
      ),
    createSheet: z.boolean().default(true).describe('Create the sheet (tab) when it does not exist. @defaultValue true'),
    writesPerMinute: z
      .number()
      .int()
      .positive()
      .default(60)
      .describe('Most write requests this connector sends per sliding minute, across replicas (Google allows 60 per minute per user). @defaultValue 60'),
    quotaRetryAfter: durationMsField(
      'How long the whole connector pauses after a 429 RESOURCE_EXHAUSTED without a Retry-After header (the quota is per minute)',
      '30s',
    ),
  })
  .strict()
  .superRefine((c, ctx) => {
    for (const problem of sheetsConfigProblems(c)) ctx.addIssue({ code: 'custom', ...problem });
  });

export type SheetsConfig = z.output<typeof sheetsConfigSchema>;

/** Keys a route may override per target; each replaces the connector's own. */
export const sheetsOverridesSchema = z
  .strictObject({
    columns: z.record(z.string(), z.string()).optional().describe('Column header → template for this route.'),
    key: z.string().optional().describe('Template for the row identity for this route.'),
  })
  .describe('Per-route overrides of a Google Sheets connector.');

/**
 * Cross-field checks. Also run by the connector's constructor: the assembled config schema
 * reuses only this schema's shape, so refinements here would not reach `check` on their own.
 */
export function sheetsConfigProblems(c: Pick<SheetsConfig, 'mode' | 'key' | 'serviceAccountKey' | 'accessToken'>): { path: string[]; message: string }[] {
  const problems: { path: string[]; message: string }[] = [];
  if (c.mode === 'upsert' && !c.key)
    problems.push({ path: ['key'], message: 'mode upsert needs `key`: a template for the row identity, e.g. "{{ data.publicId }}"' });
  if (c.serviceAccountKey && c.accessToken) problems.push({ path: ['accessToken'], message: 'set either serviceAccountKey or accessToken, not both' });
  return problems;
}
