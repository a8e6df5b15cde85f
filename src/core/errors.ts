/**
 * Errors carry a stable `code` (for logs, metrics and tests), a message that says what to do,
 * and the original error as `cause`.
 */
export class BridgeError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BridgeError';
    this.code = code;
  }
}

/** Invalid user input (config, rules, CLI arguments): exit code 1. */
export class InputError extends BridgeError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'InputError';
  }
}

/** A payload that can never be sent (too large, missing required field). Rejected at enqueue. */
export class PayloadError extends BridgeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('payload_invalid', message, options);
    this.name = 'PayloadError';
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
