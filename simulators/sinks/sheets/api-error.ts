/**
 * A Sheets API error answer. Handlers throw it; the server sends it in Google's error shape
 * `{ error: { code, message, status } }`, which the official client parses.
 */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly status: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}
