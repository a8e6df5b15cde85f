import { afterEach, describe, expect, it } from 'vitest';
import { startCli, stopCli, type RunningCli } from '../helpers/cli.js';

const running: RunningCli[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((cli) => stopCli(cli)));
});

describe('moments-bridge demo', () => {
  it('prints deliveries from both sources within 10 seconds of start, then stops cleanly', async () => {
    const started = Date.now();
    const cli = startCli(['demo', '--duration', '12', '--rate', '2']);
    running.push(cli);
    await cli.waitFor(/moments-report → (stream|report)\s+delivered/, 10_000);
    expect(Date.now() - started).toBeLessThan(10_000);
    await cli.waitFor(/call-lifecycle → hooks\s+delivered/, 10_000);
    const result = await cli.exited;
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/── \d+s: \d+ moments generated · delivered \d+/);
    expect(result.stdout).toContain('demo stopped.');
    expect(result.stdout).not.toMatch(/dead-lettered/);
  }, 40_000);
});
