import type { BridgeEvent } from '../../src/core/event.js';
import { PayloadError } from '../../src/core/errors.js';
import { compilePayload, compileTemplate, type PayloadTemplate, type Template } from '../../src/templates/template-engine.js';
import type { PayloadRenderer } from '../connector.js';
import { parseOverrides } from '../lib/overrides.js';
import { sheetsOverridesSchema, type SheetsConfig } from './config.js';

/**
 * Turns an event into a row: its cells by header and, in upsert mode, its key. Routes render at
 * enqueue time, so a row that can never be written (an empty upsert key, a cell over Google's
 * size limit) is rejected there as a PayloadError instead of failing a whole flush later.
 */

/** What a route renders at enqueue time: the row's identity and its cells by header. */
export interface SheetsPayload {
  key: string | null;
  cells: Record<string, CellValue>;
}
export type CellValue = string | number | boolean;

/** Google's limit on one cell. */
const MAX_CELL_CHARS = 50_000;

function toCell(value: unknown, where: string): CellValue {
  let cell: CellValue;
  if (value === null || value === undefined) cell = '';
  else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') cell = value;
  else cell = JSON.stringify(value);
  if (typeof cell === 'string' && cell.length > MAX_CELL_CHARS) {
    throw new PayloadError(`${where} renders ${cell.length} characters; a Google Sheets cell holds at most ${MAX_CELL_CHARS}: shorten the template`);
  }
  return cell;
}

/** A renderer for connector `name`, with a route's `columns` / `key` overrides over the config's. */
export function sheetsRenderer(config: SheetsConfig, name: string, overrides: Record<string, unknown> = {}): PayloadRenderer {
  const o = parseOverrides(sheetsOverridesSchema, overrides, `connector ${name}`);
  const columns = o.columns ?? config.columns;
  const keySource = o.key ?? config.key;
  const compiled: [string, PayloadTemplate][] = Object.entries(columns).map(([h, t]) => [h, compilePayload(t, `connectors.${name}.columns.${h}`)]);
  const key: Template | undefined = keySource ? compileTemplate(keySource, `connectors.${name}.key`) : undefined;
  const upsert = config.mode === 'upsert';
  const keyColumn = config.keyColumn;
  return {
    render: (event: BridgeEvent): SheetsPayload => {
      const cells: Record<string, CellValue> = {};
      for (const [header, template] of compiled) cells[header] = toCell(template.render(event), `connectors.${name}.columns.${header}`);
      const rowKey = key ? key.render(event).trim() : null;
      if (upsert) {
        if (!rowKey) throw new PayloadError(`connectors.${name}.key renders empty for event ${event.id}: an upsert row needs a key`);
        cells[keyColumn] = rowKey;
      }
      return { key: rowKey, cells };
    },
  };
}
