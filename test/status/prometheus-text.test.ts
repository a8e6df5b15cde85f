import { describe, expect, it } from 'vitest';
import { parsePrometheusText } from '../../src/status/prometheus-text.js';

describe('parsePrometheusText', () => {
  it('reads names, labels (escapes and commas inside values included) and values; skips comments and junk', () => {
    const text = [
      '# HELP mb_queue_depth Jobs per connector queue and state',
      '# TYPE mb_queue_depth gauge',
      'mb_queue_depth{connector="hooks",state="waiting"} 4',
      'mb_redis_up 1',
      'mb_x{route="a \\"quoted\\", b\\\\c\\nd",le="+Inf"} 2.5 1700000000000',
      'mb_nan NaN',
      'garbage line without a number',
      '',
    ].join('\n');
    expect(parsePrometheusText(text)).toEqual([
      { name: 'mb_queue_depth', labels: { connector: 'hooks', state: 'waiting' }, value: 4 },
      { name: 'mb_redis_up', labels: {}, value: 1 },
      { name: 'mb_x', labels: { route: 'a "quoted", b\\c\nd', le: '+Inf' }, value: 2.5 },
      { name: 'mb_nan', labels: {}, value: NaN },
    ]);
  });
});
