import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadValidatedConfig } from '../../src/config/load-validated-config.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { silentLogger, type Logger } from '../../src/core/log.js';

/** Writes `yaml` to config.yaml in a fresh temp dir and returns its path. */
export function writeConfig(yaml: string, dir = mkdtempSync(join(tmpdir(), 'mb-ops-'))): string {
  const file = join(dir, 'config.yaml');
  writeFileSync(file, yaml);
  return file;
}

/** Loads (and validates) a config file and starts a daemon from it, as `run` does. */
export async function startDaemon(file: string, options: { logger?: Logger; sources?: boolean } = {}): Promise<Daemon> {
  const loaded = await loadValidatedConfig(file);
  return Daemon.start({ loaded, logger: options.logger ?? silentLogger(), sources: options.sources ?? true });
}

/** Polls `fn` until it returns a truthy value (rejects after timeoutMs with `what`). */
export async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface ReadyzBody {
  ready: boolean;
  checks: Record<string, { ok: boolean; detail?: unknown }>;
}

export async function getReadyz(base: string): Promise<{ status: number; body: ReadyzBody }> {
  const res = await fetch(`${base}/readyz`);
  return { status: res.status, body: (await res.json()) as ReadyzBody };
}

/** Parses Prometheus text into `name{labels} → value` (labels sorted as printed). */
export async function scrape(base: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

export function baseUrl(daemon: Daemon): string {
  const a = daemon.httpAddress;
  if (!a) throw new Error('the daemon has no HTTP server');
  return `http://${a.host}:${a.port}`;
}

/** The value of one sample, matching `labels` in any order (undefined when absent). */
export function sample(metrics: Map<string, number>, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const [key, value] of metrics) {
    const brace = key.indexOf('{');
    const n = brace < 0 ? key : key.slice(0, brace);
    if (n !== name) continue;
    const have = brace < 0 ? [] : key.slice(brace + 1, -1).split(/,(?=[a-zA-Z_]+=")/);
    if (have.length === want.length && want.every((w) => have.includes(w))) return value;
  }
  return undefined;
}
