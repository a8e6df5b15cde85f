import { BridgeError } from '../../core/errors.js';

/**
 * A failure talking to the Observer service. `code` is stable: `observer_timeout`,
 * `observer_unauthorized`, `observer_disconnected`, `observer_connect_failed`, or
 * `observer_<server error code>` for an error response (e.g. `observer_not_found`).
 */
export class ObserverError extends BridgeError {
  /** The request method that failed, when the failure belongs to one. */
  readonly method: string | undefined;

  constructor(code: string, message: string, options: { method?: string; cause?: unknown } = {}) {
    super(code, message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ObserverError';
    this.method = options.method;
  }

  /** Whether reconnecting with the same credentials cannot help. */
  get isAuthFailure(): boolean {
    return this.code === 'observer_unauthorized';
  }
}
