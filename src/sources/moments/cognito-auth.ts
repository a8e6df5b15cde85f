import { createHmac } from 'node:crypto';
import { MomentsAuthError } from './moments-errors.js';

/*
 * Cognito InitiateAuth over plain fetch rather than @aws-sdk/client-cognito-identity-provider:
 * InitiateAuth is one unsigned JSON POST, so the SDK would add a dependency tree, a region
 * setting and its own retry layer (which must not run against a wrong password) for nothing.
 * Plain fetch keeps the endpoint override trivial and the wire format visible in one place.
 */

export interface CognitoAuthOptions {
  /** Cognito endpoint, e.g. `https://cognito-idp.eu-west-1.amazonaws.com/`. */
  endpoint: string;
  clientId: string;
  /** App client secret; when set every call carries `SECRET_HASH`. */
  clientSecret?: string;
  /**
   * Refresh this long before the ID token expires; capped at a fifth of the token lifetime so
   * short-lived tokens are not refreshed continuously. @defaultValue 300000 (5 min)
   */
  refreshMarginMs?: number;
  /** Called whenever new tokens arrive (login or refresh). */
  onTokens?: (tokens: CognitoTokens, how: 'login' | 'refresh') => void;
}

export interface CognitoTokens {
  idToken: string;
  accessToken: string;
  refreshToken: string;
  /** Epoch ms at which the tokens expire. */
  expiresAt: number;
  /** Lifetime at issue, ms. */
  lifetimeMs: number;
}

interface AuthenticationResult {
  IdToken?: string;
  AccessToken?: string;
  RefreshToken?: string;
  ExpiresIn?: number;
}

/** Decodes a JWT's claims without verifying it: the bridge only reads `custom:tenant` and `cognito:username`. */
export function decodeJwtClaims(token: string): Record<string, unknown> {
  const part = token.split('.')[1];
  if (!part) return {};
  try {
    const claims: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return claims !== null && typeof claims === 'object' ? (claims as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** `SECRET_HASH` = base64(HMAC-SHA256(clientSecret, username + clientId)). */
export function secretHash(clientSecret: string, username: string, clientId: string): string {
  return createHmac('sha256', clientSecret)
    .update(username + clientId)
    .digest('base64');
}

/** Cognito error types that no retry can fix. */
const PERMANENT_TYPES = new Set([
  'NotAuthorizedException',
  'UserNotFoundException',
  'UserNotConfirmedException',
  'PasswordResetRequiredException',
  'InvalidParameterException',
  'ResourceNotFoundException',
]);

/**
 * Holds the user's Cognito session: logs in with USER_PASSWORD_AUTH, refreshes with
 * REFRESH_TOKEN_AUTH before expiry (a timer) or when the API says 401, and falls back to a full
 * login when the refresh token is refused. Concurrent callers share one in-flight call.
 */
export class CognitoAuth {
  private readonly options: CognitoAuthOptions;
  private credentials: { username: string; password: string } | undefined;
  private tokens: CognitoTokens | undefined;
  private inflight: Promise<CognitoTokens> | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: CognitoAuthOptions) {
    if (!options.endpoint) throw new TypeError('CognitoAuth: endpoint is required');
    if (!options.clientId) throw new TypeError('CognitoAuth: clientId is required');
    this.options = options;
  }

  /** The tenant from the ID token's `custom:tenant` claim. */
  get tenant(): string | undefined {
    if (!this.tokens) return undefined;
    const tenant = decodeJwtClaims(this.tokens.idToken)['custom:tenant'];
    return typeof tenant === 'string' ? tenant : undefined;
  }

  /** Logs in; throws MomentsAuthError (`retryable: false` for wrong credentials). */
  async login(username: string, password: string): Promise<CognitoTokens> {
    this.credentials = { username, password };
    this.closed = false;
    return this.single(() => this.passwordAuth());
  }

  /**
   * The token for the `Authorization` header: the ID token, because it carries `custom:tenant`,
   * which the engine's resolvers scope by. Refreshes first when it is about to expire.
   */
  async token(): Promise<string> {
    const tokens = this.tokens;
    if (tokens && Date.now() < tokens.expiresAt - this.marginMs(tokens)) return tokens.idToken;
    return (await this.single(() => this.renew())).idToken;
  }

  /** The API refused the token (401): refresh now, whatever its expiry says. */
  async invalidate(): Promise<string> {
    if (this.tokens) this.tokens = { ...this.tokens, expiresAt: 0 };
    return this.token();
  }

  close(): void {
    this.closed = true;
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = undefined;
  }

  private marginMs(tokens: CognitoTokens): number {
    return Math.min(this.options.refreshMarginMs ?? 300_000, tokens.lifetimeMs / 5);
  }

  private single(fn: () => Promise<CognitoTokens>): Promise<CognitoTokens> {
    this.inflight ??= fn().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async renew(): Promise<CognitoTokens> {
    if (this.tokens?.refreshToken) {
      try {
        return await this.refreshAuth(this.tokens.refreshToken);
      } catch (err) {
        // A refused refresh token (expired, revoked) is healed by a full login; anything else is not.
        if (!(err instanceof MomentsAuthError) || err.retryable) throw err;
      }
    }
    return this.passwordAuth();
  }

  private async passwordAuth(): Promise<CognitoTokens> {
    if (!this.credentials)
      throw new MomentsAuthError('NotLoggedIn', 'Moments client is not logged in: call login(username, password) first', { retryable: false });
    const { username, password } = this.credentials;
    const params: Record<string, string> = { USERNAME: username, PASSWORD: password };
    if (this.options.clientSecret) params.SECRET_HASH = secretHash(this.options.clientSecret, username, this.options.clientId);
    const result = await this.initiateAuth('USER_PASSWORD_AUTH', params);
    return this.store(result, undefined, 'login');
  }

  private async refreshAuth(refreshToken: string): Promise<CognitoTokens> {
    const params: Record<string, string> = { REFRESH_TOKEN: refreshToken };
    if (this.options.clientSecret && this.credentials) {
      params.SECRET_HASH = secretHash(this.options.clientSecret, this.cognitoUsername() ?? this.credentials.username, this.options.clientId);
    }
    const result = await this.initiateAuth('REFRESH_TOKEN_AUTH', params);
    // REFRESH_TOKEN_AUTH answers without a new refresh token: keep the old one.
    return this.store(result, refreshToken, 'refresh');
  }

  /**
   * The user's Cognito user name (`cognito:username` of the ID token). Cognito computes a refresh's
   * SECRET_HASH over it, and for a login by alias (email, phone) it is not what was typed.
   */
  private cognitoUsername(): string | undefined {
    const claim = this.tokens ? decodeJwtClaims(this.tokens.idToken)['cognito:username'] : undefined;
    return typeof claim === 'string' && claim ? claim : undefined;
  }

  private store(result: AuthenticationResult, previousRefresh: string | undefined, how: 'login' | 'refresh'): CognitoTokens {
    const refreshToken = result.RefreshToken ?? previousRefresh;
    if (!result.IdToken || !result.AccessToken || !refreshToken) {
      throw new MomentsAuthError('InvalidResponse', 'Cognito answered without IdToken/AccessToken/RefreshToken: is cognitoEndpoint a Cognito endpoint?', {
        retryable: true,
      });
    }
    const lifetimeMs = (result.ExpiresIn ?? 3600) * 1000;
    const tokens: CognitoTokens = { idToken: result.IdToken, accessToken: result.AccessToken, refreshToken, expiresAt: Date.now() + lifetimeMs, lifetimeMs };
    this.tokens = tokens;
    this.scheduleRefresh(tokens);
    this.options.onTokens?.(tokens, how);
    return tokens;
  }

  private scheduleRefresh(tokens: CognitoTokens): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    if (this.closed) return;
    const delay = Math.max(0, tokens.expiresAt - this.marginMs(tokens) - Date.now());
    this.refreshTimer = setTimeout(() => {
      // A failed background refresh is not fatal: the next token() call tries again and reports.
      this.single(() => this.renew()).catch(() => undefined);
    }, delay);
    this.refreshTimer.unref();
  }

  private async initiateAuth(flow: 'USER_PASSWORD_AUTH' | 'REFRESH_TOKEN_AUTH', params: Record<string, string>): Promise<AuthenticationResult> {
    let res: Response;
    try {
      res = await fetch(this.options.endpoint, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'AWSCognitoIdentityProviderService.InitiateAuth' },
        body: JSON.stringify({ AuthFlow: flow, ClientId: this.options.clientId, AuthParameters: params }),
        signal: AbortSignal.timeout(15_000),
      });
    } catch (err) {
      throw new MomentsAuthError('NetworkError', `Cognito ${flow} to ${this.options.endpoint} failed: ${(err as Error).message}`, {
        retryable: true,
        cause: err,
      });
    }
    const text = await res.text();
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // Not JSON: reported below with the status.
    }
    if (!res.ok) {
      // `__type` may carry a namespace (`ns#Type`) and the header a suffix (`Type:http://…`).
      const rawType = String(body.__type ?? res.headers.get('x-amzn-errortype') ?? `HTTP${res.status}`);
      const type = (rawType.split('#').pop() ?? rawType).split(':')[0] ?? rawType;
      const message = typeof body.message === 'string' ? body.message : text.slice(0, 200);
      const permanent = PERMANENT_TYPES.has(type);
      const hint = permanent ? ' — check username, password, clientId and clientSecret' : '';
      throw new MomentsAuthError(type, `Cognito ${flow} refused: ${type}: ${message}${hint}`, { retryable: !permanent });
    }
    const result = body.AuthenticationResult as AuthenticationResult | undefined;
    if (!result) {
      const challenge = typeof body.ChallengeName === 'string' ? body.ChallengeName : 'none';
      throw new MomentsAuthError(
        'ChallengeRequired',
        `Cognito ${flow} asked for challenge ${challenge}; the bridge needs a user without MFA/new-password challenges`,
        { retryable: false },
      );
    }
    return result;
  }
}
