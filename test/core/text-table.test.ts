import { describe, expect, it } from 'vitest';
import { textTable } from '../../src/core/text-table.js';

describe('textTable', () => {
  it('pads every column but the last to its widest cell, two spaces apart, with no trailing blanks', () => {
    const out = textTable([
      ['ID', 'CONNECTOR', 'REASON'],
      ['7', 'hooks', 'HTTP 400'],
      ['1234', 'pd', ''],
    ]);
    expect(out.split('\n')).toEqual(['ID    CONNECTOR  REASON', '7     hooks      HTTP 400', '1234  pd']);
  });
});
