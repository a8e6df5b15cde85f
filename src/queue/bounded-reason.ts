import type { DeliveryResult } from '../../connectors/connector.js';
import { redactSecrets } from '../core/secret-redaction.js';

/**
 * Longest failure reason kept in attempt records, dead letters and log lines. Sinks echo request
 * bodies and headers in their error answers; a reason is for an operator to read, not an archive.
 */
export const MAX_REASON_CHARS = 1024;

/**
 * A connector's result as the queue stores it: the reason with every known secret value replaced
 * (a sink may echo the credential it was sent) and cut to MAX_REASON_CHARS. Redaction runs before
 * the cut, so a secret straddling the cut is still caught.
 */
export function boundedResult(result: DeliveryResult): DeliveryResult {
  if (result.status === 'delivered') return result;
  const redacted = redactSecrets(result.reason);
  const reason =
    redacted.length > MAX_REASON_CHARS ? `${redacted.slice(0, MAX_REASON_CHARS)}… (${redacted.length - MAX_REASON_CHARS} more characters)` : redacted;
  return reason === result.reason ? result : { ...result, reason };
}
