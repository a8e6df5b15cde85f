import { DescribeStreamSummaryCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { errorMessage } from '../../src/core/errors.js';
import type { ProbeContext, ProbeResult } from '../connector.js';
import type { KinesisConfig } from './config.js';

/**
 * `check --online` for Kinesis: `DescribeStreamSummary`
 * (https://docs.aws.amazon.com/kinesis/latest/APIReference/API_DescribeStreamSummary.html) proves
 * the credentials, the region and the stream without writing a record.
 */
export async function probeKinesisStream(config: KinesisConfig, ctx: ProbeContext): Promise<ProbeResult> {
  const client = new KinesisClient({
    ...(config.region ? { region: config.region } : {}),
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    ...(config.credentials ? { credentials: { ...config.credentials } } : {}),
    maxAttempts: 1,
    ...(config.endpoint?.startsWith('http:') ? { requestHandler: new NodeHttpHandler() } : {}),
  });
  const target = config.stream.startsWith('arn:') ? { StreamARN: config.stream } : { StreamName: config.stream };
  try {
    const answer = await client.send(new DescribeStreamSummaryCommand(target), { abortSignal: ctx.signal });
    const s = answer.StreamDescriptionSummary;
    const status = s?.StreamStatus ?? 'UNKNOWN';
    const detail = `DescribeStreamSummary: stream ${config.stream} is ${status}, ${s?.OpenShardCount ?? '?'} open shard(s)`;
    return status === 'ACTIVE' || status === 'UPDATING'
      ? { status: 'ok', detail }
      : { status: 'failed', detail: `${detail}: records can be written only to an ACTIVE stream` };
  } catch (err) {
    const name = (err as { name?: string }).name;
    return {
      status: 'failed',
      detail: `DescribeStreamSummary for ${config.stream} failed: ${name && name !== 'Error' ? `${name}: ` : ''}${errorMessage(err)}`,
    };
  } finally {
    client.destroy();
  }
}
