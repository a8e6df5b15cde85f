import { beforeEach, describe, expect, it } from 'vitest';
import { clearSecrets, REDACTED, redactSecrets, registerSecret } from '../../src/core/secret-redaction.js';

// The registry behind log redaction: a miss here writes a credential into a log line.
describe('secret registry', () => {
  beforeEach(() => clearSecrets());

  it('leaves text alone while nothing is registered', () => {
    expect(redactSecrets('plain text')).toBe('plain text');
    expect(redactSecrets('')).toBe('');
  });

  it.each<[string, string[], string, string]>([
    ['every occurrence', ['hunter22'], 'a hunter22 b hunter22', `a ${REDACTED} b ${REDACTED}`],
    ['the four-character minimum', ['abcd'], 'abcd', REDACTED],
    ['nothing shorter than four characters', ['abc'], 'abc abcd', 'abc abcd'],
    ['the longest secret first', ['abcd', 'abcdef'], 'abcdefgh', `${REDACTED}gh`],
    ['the longest first whatever the order registered', ['abcdef', 'abcd'], 'abcd abcdef', `${REDACTED} ${REDACTED}`],
    ['regex characters literally', ['a.b*c+(d)'], 'axbbbc+d a.b*c+(d)', `axbbbc+d ${REDACTED}`],
    ['the JSON-escaped form in a log line', ['pa"ss\\word'], JSON.stringify({ msg: 'pa"ss\\word' }), `{"msg":"${REDACTED}"}`],
    ['a registration repeated', ['s3cret', 's3cret'], 's3cret', REDACTED],
  ])('redacts %s', (_name, registered, text, expected) => {
    for (const s of registered) registerSecret(s);
    expect(redactSecrets(text)).toBe(expected);
  });

  it('picks up a secret registered after the first redaction', () => {
    registerSecret('first-secret');
    expect(redactSecrets('first-secret second-secret')).toBe(`${REDACTED} second-secret`);
    registerSecret('second-secret');
    expect(redactSecrets('first-secret second-secret')).toBe(`${REDACTED} ${REDACTED}`);
  });

  it('forgets every secret on clear, including the compiled pattern', () => {
    registerSecret('old-secret');
    expect(redactSecrets('old-secret')).toBe(REDACTED);
    clearSecrets();
    expect(redactSecrets('old-secret')).toBe('old-secret');
    registerSecret('new-secret');
    expect(redactSecrets('old-secret new-secret')).toBe(`old-secret ${REDACTED}`);
  });
});
