import { randomUUID } from 'node:crypto';
import { KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { BridgeEvent } from '../../src/core/event.js';
import { PayloadError } from '../../src/core/errors.js';
import type { Logger } from '../../src/core/log.js';
import { counter } from '../../src/core/metrics.js';
import { compilePayload, compileTemplate, type PayloadTemplate, type Template } from '../../src/templates/template-engine.js';
import {
  delivered,
  permanent,
  retryable,
  type Connector,
  type ConnectorContext,
  type Delivery,
  type QueueDefaults,
  type DeliveryResult,
  type PayloadRenderer,
} from '../connector.js';
import { classifyHttpResponse, networkFailure } from '../lib/http-result.js';
import { parseOverrides } from '../lib/overrides.js';
import { kinesisOverridesSchema, type KinesisConfig } from './config.js';
import { deterministicUuid, type LkDispatchEnvelope } from './lk-dispatch-envelope.js';

/** Rendered at enqueue: everything of the envelope except the id, which comes from the delivery id. */
export interface KinesisPayload {
  type: string;
  data: unknown;
  timestamp: string;
  userId: string | null;
  partitionKey: string;
  /** Set when no `partitionKey` template is configured and the key is random: nothing to keep in order. */
  randomKey?: true;
}

/** https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecords.html */
const MAX_RECORD_BYTES = 1024 * 1024;
const MAX_CALL_BYTES = 5 * 1024 * 1024;
const MAX_PARTITION_KEY_CHARS = 256;

/** Errors of a whole PutRecords call that will not go away by retrying. */
const PERMANENT_ERRORS: Record<string, string> = {
  ResourceNotFoundException: 'the stream does not exist: check `stream` and `region`',
  AccessDeniedException: 'access denied: the credentials need kinesis:PutRecords on the stream',
  ValidationException: 'the request was rejected as invalid',
  InvalidArgumentException: 'the request was rejected as invalid',
  UnrecognizedClientException: 'the access key is not known: check credentials',
  InvalidSignatureException: 'the request signature is wrong: check the secret access key',
  KMSAccessDeniedException: "access to the stream's KMS key is denied",
  KMSDisabledException: "the stream's KMS key is disabled",
  KMSInvalidStateException: "the stream's KMS key is not usable",
  KMSNotFoundException: "the stream's KMS key does not exist",
  KMSOptInRequired: 'the account is not subscribed to KMS',
};
/** Throttling: retry after `throttleRetryAfter` without spending an attempt. */
const THROTTLE_ERRORS = new Set(['ProvisionedThroughputExceededException', 'LimitExceededException', 'ThrottlingException', 'KMSThrottlingException']);

const recordsSent = counter('mb_kinesis_records_total', 'Kinesis records by outcome', ['connector', 'outcome']);
const putCalls = counter('mb_kinesis_put_records_calls_total', 'PutRecords calls by outcome', ['connector', 'outcome']);

interface Entry {
  index: number;
  partitionKey: string;
  data: Uint8Array;
  bytes: number;
}

/**
 * Kinesis with the lk-dispatch envelope. A batch goes out in PutRecords calls of at most 500
 * records / 5 MiB; only the records a call reports as failed are retryable, and later records
 * with the same partition key are held back so a key's records do not overtake a failed one.
 */
export class KinesisConnector implements Connector<KinesisPayload> {
  readonly defaults: QueueDefaults = {
    batch: { maxSize: 500, window: '100ms' },
    concurrency: 4,
  };

  private readonly client: KinesisClient;
  private readonly target: { StreamName: string } | { StreamARN: string };
  private readonly throttleMs: number;
  private readonly name: string;
  private readonly log: Logger;

  constructor(
    private readonly config: KinesisConfig,
    ctx: ConnectorContext,
  ) {
    this.name = ctx.name;
    this.log = ctx.logger;
    this.throttleMs = config.throttleRetryAfter;
    this.target = config.stream.startsWith('arn:') ? { StreamARN: config.stream } : { StreamName: config.stream };
    this.client = new KinesisClient({
      ...(config.region ? { region: config.region } : {}),
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      // A copy: the SDK writes bookkeeping fields ($source) into the object it is given.
      ...(config.credentials ? { credentials: { ...config.credentials } } : {}),
      // The queue owns retries: one attempt per call, no hidden SDK retry loop.
      maxAttempts: 1,
      // The default handler speaks HTTP/2, which plain-http endpoints (kinesalite, proxies) reject.
      ...(config.endpoint?.startsWith('http:') ? { requestHandler: new NodeHttpHandler() } : {}),
    });
    // Compiles the connector's own templates now, so a bad one fails at start even with no route sending here.
    this.renderer();
  }

  renderer(overrides: Record<string, unknown> = {}): PayloadRenderer {
    const o = parseOverrides(kinesisOverridesSchema, overrides, `connector ${this.name}`);
    // An override replaces the connector's value even when it is empty or null (`key in o`, not `??`).
    const pick = <K extends keyof typeof o>(key: K): (typeof o)[K] | KinesisConfig[K] => (key in o ? o[key] : this.config[key]);
    const where = `connectors.${this.name}`;
    const eventType: Template = compileTemplate(pick('eventType') ?? '{{ kind }}', `${where}.eventType`);
    const userIdSource = pick('userId');
    const userId: Template | undefined = userIdSource ? compileTemplate(userIdSource, `${where}.userId`) : undefined;
    const keySource = pick('partitionKey');
    const partitionKey: Template | undefined = keySource ? compileTemplate(keySource, `${where}.partitionKey`) : undefined;
    const dataSource = pick('data');
    const data: PayloadTemplate | undefined = dataSource === undefined ? undefined : compilePayload(dataSource, `${where}.data`);
    const producerId = this.config.producerId;

    return {
      render: (event: BridgeEvent): KinesisPayload => {
        const key = partitionKey ? partitionKey.render(event) : randomUUID();
        if (key.length === 0) throw new PayloadError(`${where}.partitionKey renders empty for event ${event.id}; Kinesis needs 1–256 characters`);
        if (key.length > MAX_PARTITION_KEY_CHARS)
          throw new PayloadError(`${where}.partitionKey renders ${key.length} characters for event ${event.id}; Kinesis allows at most 256`);
        const uid = userId ? userId.render(event) : '';
        // Rendered once at enqueue, so a retry re-sends a byte-identical record.
        const payload: KinesisPayload = {
          type: eventType.render(event),
          data: (data ? data.render(event) : event.data) ?? null,
          timestamp: new Date().toISOString(),
          userId: uid === '' ? null : uid,
          partitionKey: key,
          ...(partitionKey ? {} : { randomKey: true as const }),
        };
        const bytes = recordBytes(envelope(payload, producerId, deterministicUuid('size-check')));
        if (bytes > MAX_RECORD_BYTES) {
          throw new PayloadError(
            `event ${event.id} makes a ${bytes}-byte Kinesis record; a record holds at most 1 MiB (${MAX_RECORD_BYTES} bytes): send less data (connectors.${this.name}.data)`,
          );
        }
        return payload;
      },
    };
  }

  /**
   * The record's partition key: Kinesis orders records per key (one shard), so the queue keeps them
   * together too. A random key (no template) orders nothing and differs on every render, so the
   * queue partitions those by the event id, the same on every enqueue of the delivery.
   */
  partitionKey(payload: KinesisPayload, event: BridgeEvent): string {
    return payload.randomKey ? event.id : payload.partitionKey;
  }

  async deliver(delivery: Delivery<KinesisPayload>, signal: AbortSignal): Promise<DeliveryResult> {
    return (await this.deliverBatch([delivery], signal))[0]!;
  }

  async deliverBatch(deliveries: Delivery<KinesisPayload>[], signal: AbortSignal): Promise<DeliveryResult[]> {
    const results: (DeliveryResult | undefined)[] = deliveries.map(() => undefined);
    const entries: Entry[] = [];
    deliveries.forEach((d, index) => {
      const payload = d.payload;
      const data = Buffer.from(JSON.stringify(envelope(payload, this.config.producerId, deterministicUuid(d.id))), 'utf8');
      const bytes = data.byteLength + Buffer.byteLength(payload.partitionKey, 'utf8');
      if (bytes > MAX_RECORD_BYTES) results[index] = permanent(`record of ${bytes} bytes exceeds the Kinesis limit of 1 MiB`);
      else entries.push({ index, partitionKey: payload.partitionKey, data, bytes });
    });

    // Keys with a failed record: their later records wait, so they cannot overtake it.
    const blocked = new Set<string>();
    let stop: DeliveryResult | undefined;
    for (const call of chunk(entries, this.config.maxRecordsPerCall)) {
      const sendable = call.filter((e) => !blocked.has(e.partitionKey));
      for (const e of call)
        if (blocked.has(e.partitionKey)) results[e.index] = retryable(`held back behind a failed record with partition key ${e.partitionKey}`);
      if (sendable.length === 0) continue;
      let answer;
      try {
        const records: PutRecordsRequestEntry[] = sendable.map((e) => ({ Data: e.data, PartitionKey: e.partitionKey }));
        answer = await this.client.send(new PutRecordsCommand({ ...this.target, Records: records }), { abortSignal: signal });
      } catch (err) {
        stop = this.classify(err);
        putCalls.inc({ connector: this.name, outcome: stop.status });
        // Later calls would fail the same way and could reorder keys: stop here.
        break;
      }
      putCalls.inc({ connector: this.name, outcome: (answer.FailedRecordCount ?? 0) > 0 ? 'partial' : 'delivered' });
      const answered = answer.Records ?? [];
      sendable.forEach((e, i) => {
        const r = answered[i];
        if (r && !r.ErrorCode && r.SequenceNumber) {
          results[e.index] = delivered({ shardId: r.ShardId, sequenceNumber: r.SequenceNumber });
          return;
        }
        blocked.add(e.partitionKey);
        const code = r?.ErrorCode ?? 'MissingResult';
        const reason = `PutRecords: ${code}${r?.ErrorMessage ? `: ${r.ErrorMessage}` : ''}`;
        // Record-level codes are ProvisionedThroughputExceededException or InternalFailure; both are transient.
        results[e.index] = THROTTLE_ERRORS.has(code) ? retryable(reason, this.throttleMs) : retryable(reason);
      });
    }
    const final = results.map((r) => r ?? stop ?? retryable('not sent'));
    for (const r of final) recordsSent.inc({ connector: this.name, outcome: r.status });
    return final;
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  private classify(err: unknown): DeliveryResult {
    const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    const name = e.name ?? 'Error';
    const message = `PutRecords to ${this.config.stream}: ${name}: ${e.message ?? ''}`;
    if (THROTTLE_ERRORS.has(name)) return retryable(message, this.throttleMs);
    const hint = PERMANENT_ERRORS[name];
    if (hint) {
      this.log.error({ connector: this.name, stream: this.config.stream, error: name }, `kinesis: ${hint}`);
      return permanent(`${message} — ${hint}`);
    }
    const status = e.$metadata?.httpStatusCode;
    if (typeof status === 'number' && status >= 400) {
      const r = classifyHttpResponse(status, {}, message);
      return r.status === 'delivered' ? retryable(message) : r;
    }
    return networkFailure(err);
  }
}

function envelope(p: KinesisPayload, producerId: string, id: string): LkDispatchEnvelope {
  return {
    id,
    type: p.type,
    data: p.data,
    timestamp: p.timestamp,
    source: { userId: p.userId, producerId, kinesisPartitionKey: p.partitionKey },
  };
}

function recordBytes(env: LkDispatchEnvelope): number {
  return Buffer.byteLength(JSON.stringify(env), 'utf8') + Buffer.byteLength(env.source.kinesisPartitionKey, 'utf8');
}

/** Splits entries into PutRecords calls of at most `maxRecords` records and 5 MiB, keeping order. */
function chunk(entries: Entry[], maxRecords: number): Entry[][] {
  const calls: Entry[][] = [];
  let current: Entry[] = [];
  let bytes = 0;
  for (const e of entries) {
    if (current.length > 0 && (current.length >= maxRecords || bytes + e.bytes > MAX_CALL_BYTES)) {
      calls.push(current);
      current = [];
      bytes = 0;
    }
    current.push(e);
    bytes += e.bytes;
  }
  if (current.length > 0) calls.push(current);
  return calls;
}
