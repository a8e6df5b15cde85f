// A user connector (type: module) for the benches: delivers nothing and counts what it was given.
// The count goes to Redis (INCRBY `${keyPrefix}bench:noop`, flushed every 20 ms) so a bench in
// another process can read it without adding a round trip per delivery.
import { z } from 'zod';

const configSchema = z.strictObject({
  type: z.literal('noop').describe('Accepts every delivery at once.'),
});

export default {
  type: 'noop',
  configSchema,
  create(_config, ctx) {
    let pending = 0;
    const key = `${ctx.keyPrefix}bench:noop`;
    const timer = setInterval(() => {
      if (pending === 0) return;
      const n = pending;
      pending = 0;
      ctx.redis.incrby(key, n).catch(() => (pending += n));
    }, 20);
    timer.unref();
    return {
      defaults: { concurrency: 100 },
      renderer: () => ({ render: (event) => ({ id: event.id }) }),
      async deliver() {
        pending++;
        return { status: 'delivered' };
      },
      async close() {
        clearInterval(timer);
        if (pending) await ctx.redis.incrby(key, pending);
      },
    };
  },
};
