/**
 * A local HTTP sink that answers 200 after a fixed delay (a sink with real latency) and counts
 * requests and distinct event ids (from the JSON body's `id`), for the scale-out bench.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlowSink {
  url: string;
  requests(): number;
  distinct(): number;
  stop(): Promise<void>;
}

export async function startSlowSink(delayMs: number): Promise<SlowSink> {
  let requests = 0;
  const ids = new Set<string>();
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      setTimeout(() => {
        requests++;
        try {
          ids.add(String((JSON.parse(body) as { id?: unknown }).id));
        } catch {
          /* not JSON: counted as a request only */
        }
        res.writeHead(200).end('ok');
      }, delayMs);
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/sink`,
    requests: () => requests,
    distinct: () => ids.size,
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
