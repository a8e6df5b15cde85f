import { GoogleAuth, JWT, OAuth2Client } from 'google-auth-library';
import { z } from 'zod';
import { InputError } from '../../src/core/errors.js';

/** The token URL the library's JWT client hard-codes (google-auth-library gtoken/getToken.js). */
export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';

const serviceAccountKeySchema = z
  .object({
    type: z.string().optional(),
    client_email: z.string().min(1),
    private_key: z.string().min(1),
    private_key_id: z.string().optional(),
    token_uri: z.url().optional(),
  })
  .loose();

export interface SheetsAuth {
  client: OAuth2Client | GoogleAuth;
  /** The service account's e-mail, named in "share the spreadsheet with …" errors. */
  clientEmail?: string;
}

export interface SheetsAuthOptions {
  serviceAccountKey?: string | undefined;
  accessToken?: string | undefined;
  scopes: string[];
}

/**
 * Builds the auth client the Sheets API client signs requests with: a pre-issued token, a
 * service-account JWT, or Application Default Credentials.
 *
 * The JWT client always posts to Google's token URL and signs `aud` for it, whatever the key's
 * `token_uri` says (PRODUCT.md §9). Private deployments and our tests need the key's endpoint, so
 * a request interceptor on the client's own transporter redirects exactly that URL, and the
 * audience claim follows it.
 */
export function createSheetsAuth(options: SheetsAuthOptions): SheetsAuth {
  if (options.accessToken) {
    const client = new OAuth2Client();
    client.setCredentials({ access_token: options.accessToken });
    return { client };
  }
  if (options.serviceAccountKey) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(options.serviceAccountKey);
    } catch (err) {
      throw new InputError('sheets_key_invalid', 'serviceAccountKey is not JSON: pass the content of the service-account key file (or { file: path })', {
        cause: err,
      });
    }
    const key = serviceAccountKeySchema.safeParse(parsed);
    if (!key.success) {
      throw new InputError(
        'sheets_key_invalid',
        'serviceAccountKey is not a service-account key: it needs client_email and private_key (download a JSON key for the service account)',
      );
    }
    const tokenUri = key.data.token_uri ?? GOOGLE_TOKEN_URL;
    const custom = tokenUri !== GOOGLE_TOKEN_URL;
    const client = new JWT({
      email: key.data.client_email,
      key: key.data.private_key,
      ...(key.data.private_key_id ? { keyId: key.data.private_key_id } : {}),
      scopes: options.scopes,
      ...(custom ? { additionalClaims: { aud: tokenUri } } : {}),
    });
    if (custom) {
      const target = new URL(tokenUri);
      client.transporter.interceptors.request.add({
        resolved: async (request) => {
          if (request.url.href === GOOGLE_TOKEN_URL) request.url = target;
          return request;
        },
      });
    }
    return { client, clientEmail: key.data.client_email };
  }
  return { client: new GoogleAuth({ scopes: options.scopes }) };
}
