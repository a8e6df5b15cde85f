import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/**
 * A `fetch` for connectors' small JSON/form requests, over node:http(s) with keep-alive agents.
 *
 * Why not the global fetch: every undici fetch ties its Request, Response and body stream to
 * WeakRefs and a FinalizationRegistry. V8's scavenger keeps WeakRef targets alive, so each
 * request's whole object graph (streams, buffers, promises — ~30 KB) survives the young
 * generation and is promoted to the old one: at 500 messages/s that is ~15 MB/s of promoted
 * garbage, a 10–13 ms scavenge pause every half second and regular mark-compacts, which was
 * most of the delivery latency tail (docs/performance.md, Latency). This sends the same bytes
 * and returns a standard `Response` built from the buffered body.
 *
 * Supported: string / URLSearchParams / Uint8Array bodies, redirect 'error' or 'manual', an
 * AbortSignal. Anything else (FormData, streams, redirect 'follow') goes to the global fetch.
 */
export type LeanFetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface LeanFetchOptions {
  /** Sockets kept open per origin. @defaultValue 64 */
  maxSockets?: number;
  /** Largest response body read, in bytes; a bigger one fails the request. @defaultValue 8 MiB */
  maxResponseBytes?: number;
}

export function createLeanFetch(options: LeanFetchOptions = {}): LeanFetch & { destroy(): void } {
  const maxSockets = options.maxSockets ?? 64;
  const maxBytes = options.maxResponseBytes ?? 8 * 1024 * 1024;
  const http = new HttpAgent({ keepAlive: true, maxSockets });
  const https = new HttpsAgent({ keepAlive: true, maxSockets });

  const leanFetch = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const body = plainBody(init.body);
    const redirect = init.redirect ?? 'follow';
    if (input instanceof Request || body === unsupported || redirect === 'follow') return fetch(input, init);
    const url = input instanceof URL ? input : new URL(input);
    const secure = url.protocol === 'https:';
    if (!secure && url.protocol !== 'http:') return fetch(input, init);
    const headers = headerRecord(init.headers);
    if (body !== undefined && headers['content-length'] === undefined) headers['content-length'] = String(body.byteLength);
    const signal = init.signal ?? undefined;

    return new Promise<Response>((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortError(signal));
        return;
      }
      const req = (secure ? httpsRequest : httpRequest)(url, { method: init.method ?? 'GET', headers, agent: secure ? https : http });
      const onAbort = () => req.destroy(abortError(signal!));
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => signal?.removeEventListener('abort', onAbort);
      // As fetch: an abort rejects with the signal's reason, anything else is TypeError('fetch failed').
      const fail = (err: Error) => {
        done();
        reject(signal?.aborted ? abortError(signal) : new TypeError('fetch failed', { cause: err }));
      };
      req.once('error', fail);
      req.once('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) res.destroy(new Error(`response body over ${maxBytes} bytes`));
          else chunks.push(chunk);
        });
        res.once('error', fail);
        res.once('end', () => {
          done();
          const status = res.statusCode ?? 0;
          const nullBody = status === 204 || status === 205 || status === 304;
          resolve(
            new Response(nullBody ? null : Buffer.concat(chunks, size), { status, statusText: res.statusMessage ?? '', headers: responseHeaders(res.headers) }),
          );
        });
      });
      req.end(body);
    });
  };
  return Object.assign(leanFetch, {
    destroy() {
      http.destroy();
      https.destroy();
    },
  });
}

const unsupported = Symbol('unsupported body');

function plainBody(body: RequestInit['body']): Uint8Array | undefined | typeof unsupported {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof URLSearchParams) return Buffer.from(body.toString());
  if (body instanceof Uint8Array) return body;
  return unsupported;
}

function headerRecord(h: RequestInit['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  if (h instanceof Headers) h.forEach((v, k) => (out[k] = v));
  else if (Array.isArray(h)) for (const [k, v] of h) out[k!.toLowerCase()] = v!;
  else for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k.toLowerCase()] = String(v);
  return out;
}

function responseHeaders(h: IncomingHttpHeaders): Headers {
  const out = new Headers();
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) out.append(k, x);
    else out.set(k, v);
  }
  return out;
}

/** What fetch rejects with on abort: the signal's reason (an Error when the worker aborts). */
function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new DOMException('This operation was aborted', 'AbortError');
}
