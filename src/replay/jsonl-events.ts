import { constants, createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { InputError } from '../core/errors.js';
import type { BridgeEvent } from '../core/event.js';

/** One stored event, as the daemon creates them: `id` is required because it is the dedup key. */
const storedEvent = z.strictObject({
  id: z.string().min(1).describe('The dedup key, `<source>:<kind>:<upstream id>`.'),
  source: z.string().min(1).describe('Source name in config.'),
  kind: z.string().min(1).describe('Event kind, e.g. moment.'),
  time: z.iso.datetime({ offset: true }).describe('ISO-8601 time of the event.'),
  data: z.unknown().describe('The upstream object.'),
  summary: z
    .object({
      title: z.string(),
      text: z.string().optional(),
      headline: z.string().optional(),
      fields: z.array(z.object({ label: z.string(), value: z.unknown() })).optional(),
      fieldsName: z.string().optional(),
      color: z.string().optional(),
      context: z.array(z.string()).optional(),
      groupKey: z.string().optional(),
    })
    .optional()
    .describe('How the source described the event for people (BridgeEvent.summary), when it did.'),
});

export type JsonlItem = { line: number; event: BridgeEvent } | { line: number; error: string };

function openLines(file: string) {
  const stream = createReadStream(file, { encoding: 'utf8' });
  return { stream, lines: createInterface({ input: stream, crlfDelay: Infinity }) };
}

async function checkReadable(file: string): Promise<void> {
  try {
    await access(file, constants.R_OK);
  } catch (err) {
    throw new InputError('replay_file_unreadable', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** Non-empty lines in the file (the progress bar's total). */
export async function countEvents(file: string): Promise<number> {
  await checkReadable(file);
  let n = 0;
  for await (const line of openLines(file).lines) if (line.trim()) n++;
  return n;
}

/**
 * Reads a JSONL file of events (one `{id, source, kind, time, data}` per line, blank lines
 * ignored), streaming, so a large file never sits in memory. A bad line is yielded as an error
 * with its line number; reading goes on.
 */
export async function* readJsonlEvents(file: string): AsyncGenerator<JsonlItem> {
  await checkReadable(file);
  let line = 0;
  for await (const text of openLines(file).lines) {
    line++;
    if (!text.trim()) continue;
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      yield { line, error: `not JSON: ${(err as Error).message}` };
      continue;
    }
    const parsed = storedEvent.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      yield { line, error: `not an event (${issue.path.join('.') || 'root'}: ${issue.message}); each line is {"id","source","kind","time","data"}` };
      continue;
    }
    yield { line, event: parsed.data as BridgeEvent };
  }
}
