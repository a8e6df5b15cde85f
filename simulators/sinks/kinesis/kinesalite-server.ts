import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateStreamCommand,
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { BridgeError } from '../../../src/core/errors.js';

interface KinesaliteOptions {
  createStreamMs?: number;
  deleteStreamMs?: number;
  updateStreamMs?: number;
  shardLimit?: number;
}
type KinesaliteFactory = (options?: KinesaliteOptions) => Server;

/**
 * kinesalite (and the native leveldown it pulls in) is a development dependency: the production
 * image and `npm install --omit=dev` do not ship it, so it is loaded only when a stand-in Kinesis
 * is started (the demo, tests, benchmarks). CommonJS without types: its export is a factory of an
 * http.Server.
 */
export function loadKinesalite(require: NodeJS.Require = createRequire(import.meta.url)): KinesaliteFactory {
  try {
    return require('kinesalite') as KinesaliteFactory;
  } catch (err) {
    throw new BridgeError(
      'kinesalite_missing',
      `the in-memory Kinesis stand-in (kinesalite) is not installed: it is a development dependency. Run the demo from a checkout after \`npm install\` (which installs it), or \`npm install kinesalite\` next to moments-bridge`,
      { cause: err },
    );
  }
}

export interface ReadRecord {
  shardId: string;
  sequenceNumber: string;
  partitionKey: string;
  data: string;
}

export interface Kinesalite {
  endpoint: string;
  client: KinesisClient;
  createStream(name: string, shards?: number): Promise<void>;
  /** Every record of the stream, shard by shard, in sequence order (GetRecords from TRIM_HORIZON). */
  readAll(name: string): Promise<ReadRecord[]>;
  stop(): Promise<void>;
}

export const TEST_CREDENTIALS = { accessKeyId: 'AKIDTESTTESTTEST', secretAccessKey: 'test-secret-key-1234' };

/** An in-memory kinesalite on a free loopback port, with a client speaking HTTP/1.1 to it. */
export async function startKinesalite(): Promise<Kinesalite> {
  const server = loadKinesalite()({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 50 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new KinesisClient({ region: 'us-east-1', endpoint, credentials: { ...TEST_CREDENTIALS }, requestHandler: new NodeHttpHandler() });
  return {
    endpoint,
    client,
    async createStream(name, shards = 1) {
      await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
      for (;;) {
        const d = await client.send(new DescribeStreamCommand({ StreamName: name }));
        if (d.StreamDescription?.StreamStatus === 'ACTIVE') return;
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async readAll(name) {
      const shards = (await client.send(new ListShardsCommand({ StreamName: name }))).Shards ?? [];
      const out: ReadRecord[] = [];
      for (const shard of shards) {
        let iterator = (await client.send(new GetShardIteratorCommand({ StreamName: name, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' })))
          .ShardIterator;
        while (iterator) {
          const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
          const records = page.Records ?? [];
          for (const r of records) {
            out.push({
              shardId: shard.ShardId!,
              sequenceNumber: r.SequenceNumber!,
              partitionKey: r.PartitionKey!,
              data: Buffer.from(r.Data!).toString('utf8'),
            });
          }
          if (records.length === 0) break;
          iterator = page.NextShardIterator;
        }
      }
      return out;
    },
    async stop() {
      client.destroy();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
