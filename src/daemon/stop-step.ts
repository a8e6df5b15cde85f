import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';

/**
 * Runs one step of the shutdown, bounded in time: with Redis already gone (killed, network down)
 * a client's close can wait forever, and a stop that never ends is worse than one that skips a
 * courtesy. A step that throws or overruns is logged and the shutdown goes on.
 */
export async function stopStep(log: Logger, what: string, fn: () => Promise<unknown> | undefined, limitMs = 5_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const done = await Promise.race([
      Promise.resolve(fn()).then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), limitMs))),
    ]);
    if (!done)
      log.warn(
        { component: what, limitMs },
        `${what}: did not stop within ${limitMs} ms; going on (unfinished deliveries return to the queue after their lock expires)`,
      );
  } catch (err) {
    log.error({ component: what, err: errorMessage(err) }, `${what}: error while stopping`);
  } finally {
    clearTimeout(timer);
  }
}
