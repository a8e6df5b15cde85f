import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLeanFetch } from '../../../connectors/lib/lean-fetch.js';

let server: Server;
let base: string;
const seen: { method: string; url: string; headers: IncomingMessage['headers']; body: string; remotePort: number }[] = [];

function handle(req: IncomingMessage, res: ServerResponse, body: string): void {
  seen.push({ method: req.method!, url: req.url!, headers: req.headers, body, remotePort: req.socket.remotePort! });
  if (req.url === '/echo') {
    res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'] });
    res.end(JSON.stringify({ method: req.method, body, type: req.headers['content-type'] }));
  } else if (req.url === '/slow') {
    setTimeout(() => res.end('late'), 2_000).unref();
  } else if (req.url === '/limited') {
    res.writeHead(429, 'Too Many Requests', { 'retry-after': '7' });
    res.end('slow down');
  } else if (req.url === '/empty') {
    res.writeHead(204);
    res.end();
  } else if (req.url === '/big') {
    res.end(Buffer.alloc(4096, 'x'));
  } else if (req.url === '/moved') {
    res.writeHead(302, { location: '/echo' });
    res.end();
  } else {
    res.writeHead(404);
    res.end('no such path');
  }
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => handle(req, res, body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('lean fetch (node:http under the fetch API)', () => {
  it('sends method, headers and body, and answers with a standard Response', async () => {
    const f = createLeanFetch();
    try {
      const res = await f(`${base}/echo`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Token': 't' },
        body: new URLSearchParams({ a: '1', b: 'two words' }),
        redirect: 'error',
      });
      expect(res).toBeInstanceOf(Response);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(res.headers.get('set-cookie')).toBe('a=1, b=2');
      expect(await res.json()).toEqual({ method: 'POST', body: 'a=1&b=two+words', type: 'application/x-www-form-urlencoded' });
      const req = seen.at(-1)!;
      expect(req.headers['x-token']).toBe('t');
      expect(req.headers['content-length']).toBe(String('a=1&b=two+words'.length));
    } finally {
      f.destroy();
    }
  });

  it('keeps the connection alive between requests', async () => {
    const f = createLeanFetch();
    try {
      for (let i = 0; i < 3; i++) await (await f(`${base}/echo`, { method: 'POST', body: `n=${i}`, redirect: 'error' })).text();
      const ports = seen.slice(-3).map((s) => s.remotePort);
      expect(new Set(ports).size).toBe(1);
    } finally {
      f.destroy();
    }
  });

  it('passes status text and Retry-After of a 429 through', async () => {
    const f = createLeanFetch();
    try {
      const res = await f(`${base}/limited`, { method: 'POST', body: '{}', redirect: 'error' });
      expect([res.status, res.statusText, res.headers.get('retry-after'), await res.text()]).toEqual([429, 'Too Many Requests', '7', 'slow down']);
      const empty = await f(`${base}/empty`, { method: 'POST', body: '', redirect: 'error' });
      expect([empty.status, await empty.text()]).toEqual([204, '']);
    } finally {
      f.destroy();
    }
  });

  it('rejects with the signal reason when aborted mid-request, and before it starts', async () => {
    const f = createLeanFetch();
    try {
      const ac = new AbortController();
      const started = Date.now();
      const pending = f(`${base}/slow`, { method: 'POST', body: 'x', redirect: 'error', signal: ac.signal });
      setTimeout(() => ac.abort(new Error('attempt timed out after 50 ms')), 50);
      await expect(pending).rejects.toThrow('attempt timed out after 50 ms');
      expect(Date.now() - started).toBeLessThan(1_500);
      await expect(f(`${base}/echo`, { method: 'POST', body: 'x', redirect: 'error', signal: AbortSignal.abort() })).rejects.toThrow(/aborted/);
    } finally {
      f.destroy();
    }
  });

  it('fails like fetch does when nothing listens: TypeError with the socket error as cause', async () => {
    const f = createLeanFetch();
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    try {
      const err = await f(`http://127.0.0.1:${port}/`, { method: 'POST', body: 'x', redirect: 'error' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TypeError);
      expect((err as TypeError & { cause: { code: string } }).cause.code).toBe('ECONNREFUSED');
    } finally {
      f.destroy();
    }
  });

  it('refuses a response body over the limit', async () => {
    const f = createLeanFetch({ maxResponseBytes: 1024 });
    try {
      await expect(f(`${base}/big`, { method: 'GET', redirect: 'error' })).rejects.toThrow(TypeError);
      expect(await (await f(`${base}/echo`, { method: 'POST', body: 'still works', redirect: 'error' })).json()).toMatchObject({ body: 'still works' });
    } finally {
      f.destroy();
    }
  });

  it('leaves what it does not handle (redirect follow, FormData) to the global fetch', async () => {
    const f = createLeanFetch();
    try {
      const followed = await f(`${base}/moved`, { method: 'GET' });
      expect([followed.status, followed.redirected]).toEqual([200, true]);
      const form = new FormData();
      form.set('file', new Blob(['hello']), 'a.txt');
      const res = await f(`${base}/echo`, { method: 'POST', body: form, redirect: 'error' });
      expect(((await res.json()) as { type: string }).type).toMatch(/^multipart\/form-data; boundary=/);
      const manual = await f(`${base}/moved`, { method: 'GET', redirect: 'manual' });
      expect([manual.status, manual.headers.get('location')]).toEqual([302, '/echo']);
    } finally {
      f.destroy();
    }
  });
});
