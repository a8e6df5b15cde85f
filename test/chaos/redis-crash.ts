/**
 * Crashes a test redis-server the way production loses one: SIGKILL (no AOF flush, no goodbye to
 * clients), then a new server on the same port and data dir.
 *
 * A SIGKILLed process loses nothing the kernel already has: with `appendfsync everysec`, Redis
 * has write(2)n every acknowledged command to the AOF, and only a machine crash (power, kernel)
 * loses the writes of the last second that were not fsynced yet. `loseLastMs` models that: the
 * AOF's newest increment file is cut back to the size it had `loseLastMs` before the kill (Redis
 * loads a truncated AOF tail by default, `aof-load-truncated yes`).
 */
import { readdirSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import type { EmbeddedRedis } from '../../src/redis/embedded-redis.js';

export interface RedisCrasher {
  /**
   * SIGKILL, `downMs` down, `whileDown()`, start again; returns the AOF bytes dropped (0 without
   * AOF or `loseLastMs`).
   */
  crash(p: { downMs: number; loseLastMs?: number; whileDown?: () => void }): Promise<{ aofBytesDropped: number }>;
  /** Stops sampling the AOF size. */
  stop(): void;
}

const SAMPLE_EVERY_MS = 50;

/** The newest `appendonly.aof.<n>.incr.aof` of a Redis 7 multi-part AOF, if any. */
export function newestIncrementFile(dataDir: string): string | undefined {
  const dir = join(dataDir, 'appendonlydir');
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    return undefined;
  }
  const seqOf = (f: string) => Number(/\.(\d+)\.incr\.aof$/.exec(f)?.[1] ?? -1);
  const newest = files.filter((f) => seqOf(f) >= 0).sort((a, b) => seqOf(b) - seqOf(a))[0];
  return newest ? join(dir, newest) : undefined;
}

export function redisCrasher(server: EmbeddedRedis): RedisCrasher {
  // Size of the AOF increment file over time, so the kill can cut it back to an earlier instant.
  const samples: { at: number; file: string; size: number }[] = [];
  const sample = () => {
    const file = newestIncrementFile(server.dataDir);
    if (!file) return;
    samples.push({ at: Date.now(), file, size: statSync(file).size });
    if (samples.length > 400) samples.splice(0, samples.length - 400);
  };
  const timer = server.appendOnly ? setInterval(sample, SAMPLE_EVERY_MS) : undefined;
  return {
    async crash({ downMs, loseLastMs, whileDown }) {
      sample();
      const killedAt = Date.now();
      await server.kill();
      let aofBytesDropped = 0;
      const file = newestIncrementFile(server.dataDir);
      if (loseLastMs && file) {
        const before = samples.filter((s) => s.file === file && s.at <= killedAt - loseLastMs).at(-1);
        const size = statSync(file).size;
        // No sample that old for this file (it is younger than loseLastMs): everything in it is lost.
        const keep = before?.size ?? 0;
        if (keep < size) {
          truncateSync(file, keep);
          aofBytesDropped = size - keep;
        }
      }
      await new Promise((r) => setTimeout(r, downMs));
      whileDown?.();
      await server.start();
      return { aofBytesDropped };
    },
    stop: () => clearInterval(timer),
  };
}
