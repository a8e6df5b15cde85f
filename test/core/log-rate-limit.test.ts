import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/log.js';
import { RateLimitedLog } from '../../src/core/log-rate-limit.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, logger: createLogger({ format: 'json', destination, level: 'info' }) };
}

describe('RateLimitedLog', () => {
  it('per key: the first `burst` lines pass, the rest are counted, one summary per interval', () => {
    let now = 0;
    const { lines, logger } = capture();
    const log = new RateLimitedLog(logger, { burst: 3, intervalMs: 1000, now: () => now });
    for (let i = 0; i < 100; i++) log.warn('bad-frame', { i }, `bad frame ${i}`);
    expect(lines.map((l) => l.msg)).toEqual(['bad frame 0', 'bad frame 1', 'bad frame 2']);
    now = 1000; // next interval: the summary of the last one comes first, then new lines pass
    log.warn('bad-frame', { i: 100 }, 'bad frame 100');
    expect(lines).toHaveLength(5);
    expect(lines[3]).toMatchObject({ level: 40, logKey: 'bad-frame', suppressed: 97, intervalMs: 1000 });
    expect(lines[3]!.msg).toMatch(/^97 more "bad-frame" log lines suppressed in 1 s/);
    expect(lines[4]!.msg).toBe('bad frame 100');
  });

  it('keys are independent: a flood of one does not silence another', () => {
    const { lines, logger } = capture();
    const log = new RateLimitedLog(logger, { burst: 2, intervalMs: 60_000 });
    for (let i = 0; i < 50; i++) log.warn('a', {}, 'a');
    log.error('b', {}, 'b');
    expect(lines.map((l) => l.msg)).toEqual(['a', 'a', 'b']);
    expect(lines[2]!.level).toBe(50);
  });

  it('a flood that stops still gets its summary (timer), and flush() writes pending ones', async () => {
    const { lines, logger } = capture();
    const log = new RateLimitedLog(logger, { burst: 1, intervalMs: 150 });
    for (let i = 0; i < 10; i++) log.warn('x', {}, 'x');
    expect(lines).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 500));
    expect(lines.map((l) => l.suppressed)).toEqual([undefined, 9]);
    for (let i = 0; i < 4; i++) log.warn('y', {}, 'y');
    log.flush();
    expect(lines.map((l) => l.suppressed)).toEqual([undefined, 9, undefined, 3]);
  });

  it('tracks at most maxKeys keys: the oldest window is closed (summarized) to make room', () => {
    const { lines, logger } = capture();
    const log = new RateLimitedLog(logger, { burst: 1, intervalMs: 60_000, maxKeys: 2 });
    log.warn('k1', {}, 'k1');
    log.warn('k1', {}, 'k1');
    log.warn('k2', {}, 'k2');
    log.warn('k3', {}, 'k3'); // evicts k1, whose suppressed line is summarized
    expect(lines.map((l) => l.msg ?? '')).toEqual(['k1', 'k2', expect.stringMatching(/^1 more "k1"/), 'k3']);
  });
});
