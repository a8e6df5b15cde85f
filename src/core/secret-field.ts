import { AsyncLocalStorage } from 'node:async_hooks';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { registerSecret } from './secret-redaction.js';

const secretFilesUnread = new AsyncLocalStorage<true>();

/**
 * Runs `fn` with `{ file: … }` secrets left unread (a stand-in value instead): for commands that
 * use no secret (`test`, `route`, `dlq`), on a machine where the secret files do not exist.
 */
export function withoutSecretFiles<T>(fn: () => Promise<T>): Promise<T> {
  return secretFilesUnread.run(true, fn);
}

/**
 * A secret config value: a string (usually `${ENV_VAR}`), or `{ file: /run/secrets/x }` read at
 * load time (trailing newline trimmed). Every resolved value is registered for log redaction.
 */
export function secretString(description: string) {
  return z
    .union([z.string().min(1), z.object({ file: z.string().min(1).describe('Path of a file holding the secret.') }).strict()])
    .transform((value, ctx) => {
      let resolved: string;
      if (typeof value === 'string') {
        resolved = value;
      } else if (secretFilesUnread.getStore()) {
        // Shaped as a Standard Webhooks secret, the one secret format a connector checks; any other takes any text.
        return `whsec_${Buffer.from(`unread ${value.file}`).toString('base64')}`;
      } else {
        try {
          resolved = readFileSync(value.file, 'utf8').replace(/\r?\n$/, '');
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: `cannot read secret file ${value.file}: ${(err as Error).message}` });
          return z.NEVER;
        }
      }
      registerSecret(resolved);
      return resolved;
    })
    .describe(`${description} (secret: use \${ENV_VAR} or { file: path }; redacted from logs)`)
    .meta({ 'x-secret': true });
}
