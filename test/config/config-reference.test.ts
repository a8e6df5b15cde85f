import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderConfigReference } from '../../src/config/config-reference.js';

describe('docs/configuration.md', () => {
  it('is the reference generated from the current schemas (run `npm run docs:config` after changing a schema)', () => {
    const committed = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    expect(committed).toBe(renderConfigReference());
  });

  it('documents every source and connector type and the shared delivery options', () => {
    const doc = renderConfigReference();
    for (const heading of [
      '### type: moments',
      '### type: observer',
      '### type: slack',
      '### type: pagerduty',
      '### type: webhook',
      '### type: sheets',
      '### type: kinesis',
      '### type: module',
      '### delivery options (every connector)',
      '## routes',
    ]) {
      expect(doc).toContain(heading);
    }
    expect(doc).toMatch(/## redis\n(.*\n)*\| `dedupTtl` \|/);
  });
});
