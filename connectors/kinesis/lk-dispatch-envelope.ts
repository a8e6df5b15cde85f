import { createHash } from 'node:crypto';

/** The lk-dispatch event envelope every Kinesis record carries. */
export interface LkDispatchEnvelope {
  /** UUID; deterministic from the delivery id so a retry re-sends the same id (consumers dedupe on it). */
  id: string;
  type: string;
  data: unknown;
  /** ISO-8601. */
  timestamp: string;
  source: {
    userId: string | null;
    producerId: string;
    /** Equal to the record's PartitionKey. */
    kinesisPartitionKey: string;
  };
}

/** Namespace of {@link deterministicUuid}: fixed so every replica and release derives the same ids. */
const NAMESPACE = Buffer.from('6f1c2a4e9b3d4c7e8a5f0d2b1e3c4a5f', 'hex');

/** A name-based (RFC 9562 version 5, SHA-1) UUID of `name`. */
export function deterministicUuid(name: string): string {
  const bytes = createHash('sha1').update(NAMESPACE).update(name, 'utf8').digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
