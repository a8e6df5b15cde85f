import { createVerify, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody } from './request-body.js';

/**
 * Who may call the simulated API: an OAuth token endpoint for the service-account JWT bearer flow
 * (it checks the JWT's signature against the registered key, its expiry and its scope, as Google
 * does), and the set of access tokens the API accepts, issued here or pre-issued by a test.
 */

export interface ServiceAccountRegistration {
  /** The key's `client_email` (the JWT `iss`). */
  clientEmail: string;
  /** PEM public key to verify the JWT signature. */
  publicKey: string;
}

export interface TokenRequest {
  at: number;
  claims: Record<string, unknown>;
}

export interface TokenEndpointOptions {
  /** Pre-issued OAuth access tokens the API accepts. */
  accessTokens?: string[];
  /** Service accounts the token endpoint accepts; a JWT from anyone else gets `invalid_grant`. */
  serviceAccounts?: ServiceAccountRegistration[];
  /** Lifetime of issued tokens in seconds. @defaultValue 3600 */
  tokenLifetimeSeconds?: number;
}

function decodeJwt(assertion: string, accounts: ServiceAccountRegistration[]): Record<string, unknown> {
  const parts = assertion.split('.');
  if (parts.length !== 3) throw new Error('malformed JWT');
  const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
  const account = accounts.find((a) => a.clientEmail === claims.iss);
  if (!account) throw new Error(`unknown service account ${String(claims.iss)}`);
  const verify = createVerify('RSA-SHA256');
  verify.update(`${parts[0]}.${parts[1]}`);
  if (!verify.verify(account.publicKey, Buffer.from(parts[2]!, 'base64url'))) throw new Error('Invalid JWT Signature.');
  if (typeof claims.exp !== 'number' || claims.exp * 1000 < Date.now()) throw new Error('JWT expired');
  if (typeof claims.scope !== 'string' || !claims.scope.includes('spreadsheets')) throw new Error('JWT has no spreadsheets scope');
  return claims;
}

export class TokenEndpoint {
  /** Every token grant, with the JWT claims it carried. */
  readonly tokenRequests: TokenRequest[] = [];
  private readonly tokens: Set<string>;
  private readonly accounts: ServiceAccountRegistration[];

  constructor(private readonly options: TokenEndpointOptions) {
    this.tokens = new Set(options.accessTokens ?? []);
    this.accounts = options.serviceAccounts ?? [];
  }

  /** Accepts one more pre-issued access token. */
  addAccessToken(token: string): void {
    this.tokens.add(token);
  }

  /** True when an `Authorization` header carries a token this endpoint accepts. */
  authorizes(authorization: string | undefined): boolean {
    const auth = authorization ?? '';
    return auth.startsWith('Bearer ') && this.tokens.has(auth.slice(7));
  }

  /** Answers `POST /token`. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = new URLSearchParams(await readBody(req));
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      send(400, { error: 'unsupported_grant_type', error_description: 'Only the JWT bearer grant is supported' });
      return;
    }
    let claims: Record<string, unknown>;
    try {
      claims = decodeJwt(form.get('assertion') ?? '', this.accounts);
    } catch (err) {
      send(400, { error: 'invalid_grant', error_description: (err as Error).message });
      return;
    }
    this.tokenRequests.push({ at: Date.now(), claims });
    const token = `ya29.sim-${randomBytes(12).toString('hex')}`;
    this.tokens.add(token);
    send(200, { access_token: token, expires_in: this.options.tokenLifetimeSeconds ?? 3600, token_type: 'Bearer' });
  }
}
