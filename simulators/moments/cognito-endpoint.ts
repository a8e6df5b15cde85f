import { createHmac, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimAppClient, SimUser, TokenIssuer } from './token-issuer.js';

export interface CognitoStats {
  passwordLogins: number;
  refreshLogins: number;
  failedLogins: number;
}

/** Every Cognito answer carries a request id, as AWS's do (`x-amzn-requestid`, a UUID). */
function awsJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID(), ...headers });
  res.end(JSON.stringify(body));
}

export function awsError(res: ServerResponse, status: number, type: string, message: string): void {
  awsJson(res, status, { __type: type, message }, { 'x-amzn-ErrorType': `${type}:` });
}

export function secretHash(clientSecret: string, username: string, clientId: string): string {
  return createHmac('sha256', clientSecret)
    .update(username + clientId)
    .digest('base64');
}

/**
 * Cognito `InitiateAuth` for USER_PASSWORD_AUTH and REFRESH_TOKEN_AUTH, with sign-in aliases.
 *
 * SECRET_HASH is Base64(HMAC_SHA256(clientSecret, username + clientId)) — "Computing secret hash
 * values", https://docs.aws.amazon.com/cognito/latest/developerguide/signing-up-users-in-your-app.html#cognito-user-pools-computing-secret-hash.
 * With a password the hash is over the USERNAME value sent (an alias such as an email works).
 * REFRESH_TOKEN_AUTH takes no USERNAME (InitiateAuth AuthParameters:
 * https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_InitiateAuth.html),
 * so Cognito checks the hash against the user the refresh token belongs to: the pool username,
 * i.e. the ID token's `cognito:username` — not the alias typed at login and not the `sub`
 * (field report: https://qiita.com/nori3tsu/items/7fa72c297f93efd0b3bb). Pools that sign in by
 * email give users a UUID username, which is why "use the sub" often appears to work there.
 */
export class CognitoEndpoint {
  readonly stats: CognitoStats = { passwordLogins: 0, refreshLogins: 0, failedLogins: 0 };
  private readonly users = new Map<string, SimUser>();
  private readonly clients = new Map<string, SimAppClient>();

  constructor(
    private readonly tokens: TokenIssuer,
    users: SimUser[],
    clients: SimAppClient[],
    private readonly takeFailure: () => number | undefined,
  ) {
    for (const u of users) this.addUser(u);
    for (const c of clients) this.addClient(c);
  }

  addUser(user: SimUser): void {
    this.users.set(user.username, { ...user, sub: user.sub ?? randomUUID() });
  }

  addClient(client: SimAppClient): void {
    this.clients.set(client.clientId, client);
  }

  /** A user by pool username or by email alias. */
  private findUser(login: string): SimUser | undefined {
    const direct = this.users.get(login);
    if (direct) return direct;
    for (const u of this.users.values()) if (u.email !== undefined && u.email === login) return u;
    return undefined;
  }

  async handle(req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
    const target = String(req.headers['x-amz-target'] ?? '');
    if (target !== 'AWSCognitoIdentityProviderService.InitiateAuth')
      return awsError(res, 400, 'UnknownOperationException', `Unsupported X-Amz-Target "${target}"`);
    const failStatus = this.takeFailure();
    if (failStatus) return awsError(res, failStatus, 'InternalErrorException', 'Injected failure (simulator control fail-next)');
    let request: { AuthFlow?: string; ClientId?: string; AuthParameters?: Record<string, string> };
    try {
      request = JSON.parse(body) as typeof request;
    } catch {
      return awsError(res, 400, 'SerializationException', 'Request body is not JSON');
    }
    const client = request.ClientId ? this.clients.get(request.ClientId) : undefined;
    if (!client) return awsError(res, 400, 'ResourceNotFoundException', `User pool client ${request.ClientId ?? '(none)'} does not exist.`);
    const params = request.AuthParameters ?? {};
    const hashOk = (username: string): boolean => !client.clientSecret || params.SECRET_HASH === secretHash(client.clientSecret, username, client.clientId);
    const refuse = (message: string): void => {
      this.stats.failedLogins += 1;
      awsError(res, 400, 'NotAuthorizedException', message);
    };
    if (request.AuthFlow === 'USER_PASSWORD_AUTH') {
      const login = params.USERNAME ?? '';
      if (client.clientSecret && !params.SECRET_HASH) return refuse(`Client ${client.clientId} is configured for secret but secret was not received`);
      if (!hashOk(login)) return refuse(`Unable to verify secret hash for client ${client.clientId}`);
      const user = this.findUser(login);
      if (!user || user.password !== params.PASSWORD) return refuse('Incorrect username or password.');
      this.stats.passwordLogins += 1;
      return awsJson(res, 200, { AuthenticationResult: this.tokens.issue(user, client.clientId, true), ChallengeParameters: {} });
    }
    if (request.AuthFlow === 'REFRESH_TOKEN_AUTH' || request.AuthFlow === 'REFRESH_TOKEN') {
      const grant = this.tokens.refreshGrant(params.REFRESH_TOKEN ?? '');
      if (!grant || grant.clientId !== client.clientId) return refuse('Invalid Refresh Token');
      if (client.clientSecret && !params.SECRET_HASH) return refuse(`Client ${client.clientId} is configured for secret but secret was not received`);
      if (!hashOk(grant.username)) return refuse(`Unable to verify secret hash for client ${client.clientId}`);
      const user = this.users.get(grant.username);
      if (!user) return refuse('User does not exist.');
      this.stats.refreshLogins += 1;
      return awsJson(res, 200, { AuthenticationResult: this.tokens.issue(user, client.clientId, false), ChallengeParameters: {} });
    }
    return awsError(res, 400, 'InvalidParameterException', `Unsupported AuthFlow ${request.AuthFlow ?? '(none)'}`);
  }
}
