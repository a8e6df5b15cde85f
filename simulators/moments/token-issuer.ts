import { createHmac, randomBytes, randomUUID } from 'node:crypto';

export interface SimUser {
  /** The canonical user-pool username: the ID token's `cognito:username` (a UUID-like string for pools that sign in by email). */
  username: string;
  password: string;
  /** Goes into the ID token's `custom:tenant` claim. @defaultValue `demo` */
  tenant?: string;
  /** A sign-in alias: USER_PASSWORD_AUTH accepts it as USERNAME; it goes into the `email` claim. */
  email?: string;
  /** The `sub` claim, distinct from the username as in Cognito. @defaultValue a random UUID fixed when the user is added */
  sub?: string;
}

export interface SimAppClient {
  clientId: string;
  /** When set, every InitiateAuth must carry the matching SECRET_HASH. */
  clientSecret?: string;
}

interface RefreshGrant {
  username: string;
  clientId: string;
  generation: number;
}

/**
 * Issues and checks the simulator's tokens: HMAC-signed JWTs with `exp`, `custom:tenant` and a
 * generation number, so `expireAll()` can invalidate every token issued so far in one step.
 */
export class TokenIssuer {
  private readonly key = randomBytes(32);
  private readonly refreshGrants = new Map<string, RefreshGrant>();
  private accessGeneration = 0;
  private refreshGeneration = 0;

  constructor(private readonly ttlSeconds: number) {}

  issue(
    user: SimUser,
    clientId: string,
    withRefresh: boolean,
  ): { IdToken: string; AccessToken: string; RefreshToken?: string; ExpiresIn: number; TokenType: 'Bearer' } {
    const now = Date.now();
    const common = {
      sub: user.sub ?? user.username,
      iat: Math.floor(now / 1000),
      exp: Math.ceil((now + this.ttlSeconds * 1000) / 1000),
      expMs: now + this.ttlSeconds * 1000,
      gen: this.accessGeneration,
      jti: randomUUID(),
    };
    const idToken = this.sign({
      ...common,
      token_use: 'id',
      aud: clientId,
      'cognito:username': user.username,
      ...(user.email ? { email: user.email } : {}),
      'custom:tenant': user.tenant ?? 'demo',
    });
    const accessToken = this.sign({ ...common, token_use: 'access', client_id: clientId, username: user.username });
    let refreshToken: string | undefined;
    if (withRefresh) {
      refreshToken = randomBytes(24).toString('base64url');
      this.refreshGrants.set(refreshToken, { username: user.username, clientId, generation: this.refreshGeneration });
    }
    return { IdToken: idToken, AccessToken: accessToken, RefreshToken: refreshToken, ExpiresIn: this.ttlSeconds, TokenType: 'Bearer' };
  }

  /** The claims of a valid token, or a reason it is not. */
  verify(token: string | undefined): { ok: true; claims: Record<string, unknown> } | { ok: false; reason: string } {
    if (!token) return { ok: false, reason: 'missing authorization token' };
    const bare = token.replace(/^Bearer\s+/i, '');
    const [header, payload, signature] = bare.split('.');
    if (!header || !payload || !signature) return { ok: false, reason: 'token is not a JWT' };
    const expected = createHmac('sha256', this.key).update(`${header}.${payload}`).digest('base64url');
    if (expected !== signature) return { ok: false, reason: 'token signature is invalid' };
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (Number(claims.gen) < this.accessGeneration) return { ok: false, reason: 'Token has expired.' };
    if (Number(claims.expMs) <= Date.now()) return { ok: false, reason: 'Token has expired.' };
    return { ok: true, claims };
  }

  refreshGrant(refreshToken: string): RefreshGrant | undefined {
    const grant = this.refreshGrants.get(refreshToken);
    if (!grant || grant.generation < this.refreshGeneration) return undefined;
    return grant;
  }

  /** Every token issued so far stops working; with `refresh`, refresh tokens too (forcing a re-login). */
  expireAll(options: { refresh?: boolean } = {}): void {
    this.accessGeneration += 1;
    if (options.refresh) this.refreshGeneration += 1;
  }

  private sign(claims: Record<string, unknown>): string {
    const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
    const signature = createHmac('sha256', this.key).update(`${header}.${payload}`).digest('base64url');
    return `${header}.${payload}.${signature}`;
  }
}
