/**
 * The sink every chaos scenario delivers to: a local HTTP endpoint (the webhook connector posts
 * `{ "id": "<event id>" }`) that counts every 2xx receipt per event id, so a scenario can say
 * exactly how many of its events were delivered, lost or duplicated. Its behaviour can be switched
 * while it runs: healthy, answering 500, or 429 + Retry-After to every second call.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type SinkMode = { kind: 'healthy' } | { kind: 'fail'; status: number } | { kind: 'rate-limit-every-second-call'; retryAfterSeconds: number };

export interface Tally {
  expected: number;
  delivered: number;
  lost: number;
  duplicated: number;
}

export interface ChaosSink {
  url: string;
  mode: SinkMode;
  /** Receipts per event id (2xx only). */
  readonly receipts: Map<string, number>;
  /** Every request, by answered status. */
  readonly statuses: Map<number, number>;
  /** Receipts per URL path (2xx only): which connector settings delivered them. */
  readonly paths: Map<string, number>;
  /** Requests currently being answered (in flight at the sink). */
  open(): number;
  tally(expectedIds: readonly string[]): Tally;
  stop(): Promise<void>;
}

/** Delivered / lost / duplicated over `expectedIds`, from receipts counted per id at a sink. */
export function tallyReceipts(receipts: ReadonlyMap<string, number>, expectedIds: readonly string[]): Tally {
  let delivered = 0;
  let duplicated = 0;
  for (const id of expectedIds) {
    const n = receipts.get(id) ?? 0;
    if (n > 0) delivered++;
    if (n > 1) duplicated += n - 1;
  }
  return { expected: expectedIds.length, delivered, lost: expectedIds.length - delivered, duplicated };
}

/** Receipts per key, from what a sink stored (one key per stored message, row or record). */
export function countReceipts(keys: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  return counts;
}

export async function startChaosSink(options: { delayMs?: number } = {}): Promise<ChaosSink> {
  const receipts = new Map<string, number>();
  const statuses = new Map<number, number>();
  const paths = new Map<string, number>();
  let calls = 0;
  let open = 0;
  const sink: ChaosSink = {
    url: '',
    mode: { kind: 'healthy' },
    receipts,
    statuses,
    open: () => open,
    paths,
    tally: (expectedIds) => tallyReceipts(receipts, expectedIds),
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
  const server: Server = createServer((req, res) => {
    let body = '';
    open++;
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      setTimeout(() => {
        open--;
        calls++;
        const mode = sink.mode;
        let status = 200;
        const headers: Record<string, string> = {};
        if (mode.kind === 'fail') status = mode.status;
        else if (mode.kind === 'rate-limit-every-second-call' && calls % 2 === 0) {
          status = 429;
          headers['retry-after'] = String(mode.retryAfterSeconds);
        }
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status < 300) {
          const id = String((JSON.parse(body) as { id?: unknown }).id);
          receipts.set(id, (receipts.get(id) ?? 0) + 1);
          const path = new URL(req.url ?? '/', 'http://sink').pathname;
          paths.set(path, (paths.get(path) ?? 0) + 1);
        }
        res.writeHead(status, headers).end(status < 300 ? 'ok' : 'no');
      }, options.delayMs ?? 0);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  sink.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return sink;
}
