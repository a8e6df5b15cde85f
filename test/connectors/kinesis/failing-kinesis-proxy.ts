import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

interface PutRecordsEntry {
  Data: string;
  PartitionKey: string;
}
interface PutRecordsResultEntry {
  SequenceNumber?: string;
  ShardId?: string;
  ErrorCode?: string;
  ErrorMessage?: string;
}

/** Decides, per PutRecords entry, whether Kinesis "fails" it: an ErrorCode, or undefined to pass it on. */
export type FailureRule = (entry: { partitionKey: string; data: unknown }, call: number) => string | undefined;

export interface FailingKinesisProxy {
  endpoint: string;
  /** PutRecords calls seen (1-based count). */
  calls: number;
  /** Records answered with an error code. */
  failed: number;
  /** How many records each PutRecords call carried. */
  callSizes: number[];
  setRule(rule: FailureRule | undefined): void;
  /** Answers the next PutRecords call as a whole with this error (e.g. ProvisionedThroughputExceededException, 400). */
  failNextCall(errorType: string, status: number): void;
  stop(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/**
 * An HTTP proxy in front of kinesalite that turns chosen PutRecords entries into partial failures
 * the way Kinesis does: the entry is not stored, the call still answers 200, the entry's result
 * carries ErrorCode/ErrorMessage and FailedRecordCount counts it. Other calls pass through.
 */
export async function startFailingKinesisProxy(upstream: string): Promise<FailingKinesisProxy> {
  const target = new URL(upstream);
  let rule: FailureRule | undefined;
  let nextCallError: { type: string; status: number } | undefined;
  const state = { calls: 0, failed: 0, callSizes: [] as number[] };

  const forward = (req: IncomingMessage, payload: Buffer): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const headers = { ...req.headers, host: target.host, 'content-length': String(payload.byteLength) };
      const up = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers }, async (res) => {
        const b = await body(res);
        resolve({ status: res.statusCode ?? 500, headers: { 'content-type': String(res.headers['content-type'] ?? 'application/x-amz-json-1.1') }, body: b });
      });
      up.on('error', reject);
      up.end(payload);
    });

  const server: Server = createServer((req, res) => {
    void (async () => {
      const raw = await body(req);
      const isPut = req.headers['x-amz-target'] === 'Kinesis_20131202.PutRecords';
      if (!isPut) {
        const r = await forward(req, raw);
        res.writeHead(r.status, r.headers).end(r.body);
        return;
      }
      state.calls += 1;
      const parsed = JSON.parse(raw.toString('utf8')) as { Records: PutRecordsEntry[] } & Record<string, unknown>;
      state.callSizes.push(parsed.Records.length);
      if (nextCallError) {
        const e = nextCallError;
        nextCallError = undefined;
        res
          .writeHead(e.status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': e.type })
          .end(JSON.stringify({ __type: e.type, message: `injected ${e.type}` }));
        return;
      }
      const codes = parsed.Records.map((entry) => {
        if (!rule) return undefined;
        let data: unknown;
        try {
          data = JSON.parse(Buffer.from(entry.Data, 'base64').toString('utf8'));
        } catch {
          data = undefined;
        }
        return rule({ partitionKey: entry.PartitionKey, data }, state.calls);
      });
      const passed = parsed.Records.filter((_, i) => codes[i] === undefined);
      let upstreamResults: PutRecordsResultEntry[] = [];
      if (passed.length > 0) {
        const r = await forward(req, Buffer.from(JSON.stringify({ ...parsed, Records: passed })));
        if (r.status !== 200) {
          res.writeHead(r.status, r.headers).end(r.body);
          return;
        }
        upstreamResults = (JSON.parse(r.body.toString('utf8')) as { Records: PutRecordsResultEntry[] }).Records;
      }
      let next = 0;
      let failedCount = 0;
      const merged = codes.map((code) => {
        if (code === undefined) {
          const r = upstreamResults[next++]!;
          if (r.ErrorCode) failedCount += 1;
          return r;
        }
        failedCount += 1;
        state.failed += 1;
        const message =
          code === 'ProvisionedThroughputExceededException'
            ? 'Rate exceeded for shard shardId-000000000000 in stream test under account 000000000000.'
            : 'Internal service failure.';
        return { ErrorCode: code, ErrorMessage: message };
      });
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify({ FailedRecordCount: failedCount, Records: merged }));
    })().catch((err: unknown) => {
      res.writeHead(500).end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get calls() {
      return state.calls;
    },
    get failed() {
      return state.failed;
    },
    get callSizes() {
      return state.callSizes;
    },
    setRule(r) {
      rule = r;
    },
    failNextCall(type, status) {
      nextCallError = { type, status };
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
