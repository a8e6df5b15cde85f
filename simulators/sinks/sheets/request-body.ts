import type { IncomingMessage } from 'node:http';
import { ApiError } from './api-error.js';

/**
 * Request bodies as the Sheets API reads them: bad JSON is the API's 400, not a crash. Bodies are
 * read whole (no cap, unlike http-util's readBody): the simulator takes what the connector sends.
 */

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function parseJson(text: string): Record<string, unknown> {
  if (!text) return {};
  try {
    const v: unknown = JSON.parse(text);
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new ApiError(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.');
}
