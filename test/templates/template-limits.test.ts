import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { BridgeEvent } from '../../src/core/event.js';
import { silentLogger } from '../../src/core/log.js';
import { routeSchema } from '../../src/routing/route-schema.js';
import { Router } from '../../src/routing/router.js';
import { compilePayload, compileTemplate, TEMPLATE_LIMITS, TemplateLimitError } from '../../src/templates/template-engine.js';
import { CollectConnector } from '../helpers/collect-connector.js';

/** A safety bound, not a benchmark: without limits the 1e9 loop blocked the event loop for 12 s. */
const BOUND_MS = 2000;

const event = (data: Record<string, unknown>, id = '1'): BridgeEvent => ({
  id: `s:moment:${id}`,
  source: 's',
  kind: 'moment',
  time: '2025-03-04T10:00:00.000Z',
  data,
});

function timedThrow(fn: () => unknown): { err: unknown; ms: number } {
  const start = performance.now();
  try {
    fn();
  } catch (err) {
    return { err, ms: performance.now() - start };
  }
  throw new Error('expected the render to fail');
}

describe('template limits', () => {
  const loop = compileTemplate('{% for i in (1..data.n) %}x{% endfor %}', 'connector hooks.body.text');

  it('a range over an upstream number (n = 1e9) fails fast with a clear error; other events still render', () => {
    const { err, ms } = timedThrow(() => loop.render(event({ n: 1e9 })));
    expect(ms).toBeLessThan(BOUND_MS);
    expect(err).toBeInstanceOf(TemplateLimitError);
    expect((err as Error).message).toMatch(/^connector hooks\.body\.text: the template allocated more than .* bound it/);
    expect(loop.render(event({ n: 3 }))).toBe('xxx');
  });

  it('nested loops that stay under the memory limit are stopped by the render time limit', () => {
    const nested = compileTemplate('{% for i in (1..data.n) %}{% for j in (1..data.n) %}x{% endfor %}{% endfor %}', 'nested');
    const { err, ms } = timedThrow(() => nested.render(event({ n: 100_000 })));
    expect(ms).toBeLessThan(BOUND_MS);
    expect((err as Error).message).toMatch(new RegExp(`took longer than ${TEMPLATE_LIMITS.renderMs} ms`));
    expect(nested.render(event({ n: 2 }))).toBe('xxxx');
  });

  it('an output past outputChars fails; a payload keeps its other fields rendering for other events', () => {
    const payload = compilePayload({ text: 'big: {{ data.s }}', n: '{{ data.n }}' }, 'connector hooks.body');
    const { err } = timedThrow(() => payload.render(event({ s: 'y'.repeat(TEMPLATE_LIMITS.outputChars), n: 1 })));
    expect(err).toBeInstanceOf(TemplateLimitError);
    expect((err as Error).message).toMatch(/connector hooks\.body\.text: the template rendered \d+ characters; the limit is 1048576/);
    expect(payload.render(event({ s: 'small', n: 2 }))).toEqual({ text: 'big: small', n: 2 });
  });

  describe('through the router', () => {
    const lazyRedis = new Redis({ lazyConnect: true, port: 1, enableOfflineQueue: false });
    afterAll(() => lazyRedis.disconnect());

    it('the over-limit delivery is skipped; the same route still delivers the next event', async () => {
      const connectors = new Map([['hooks', new CollectConnector({ text: '{% for i in (1..data.n) %}x{% endfor %}' })]]);
      const router = Router.compile([routeSchema.parse({ name: 'all', to: ['hooks'] })], {
        redis: lazyRedis,
        keyPrefix: 't:',
        logger: silentLogger(),
        connectors,
      });
      const start = performance.now();
      expect(await router.route(event({ n: 1e9 }, 'bad'))).toEqual([]);
      expect(performance.now() - start).toBeLessThan(BOUND_MS);
      const ok = await router.route(event({ n: 2 }, 'good'));
      expect(ok.map((d) => d.payload)).toEqual([{ text: 'xx' }]);
    });
  });
});
