import { createHmac } from 'node:crypto';
import type { MomentsSimulator } from '../../../simulators/moments/moments-simulator.js';

/**
 * Raw Cognito and GraphQL calls against the simulator for its own tests, independent of the
 * bridge's client (which these tests must not depend on: they check the wire, not the client).
 */
export interface CognitoAnswer {
  status: number;
  requestId: string | null;
  body: { AuthenticationResult?: { IdToken: string; AccessToken: string; RefreshToken?: string }; __type?: string; message?: string };
}

export async function initiateAuth(
  sim: Pick<MomentsSimulator, 'cognitoEndpoint'>,
  clientId: string,
  flow: string,
  params: Record<string, string>,
): Promise<CognitoAnswer> {
  const res = await fetch(sim.cognitoEndpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'AWSCognitoIdentityProviderService.InitiateAuth' },
    body: JSON.stringify({ AuthFlow: flow, ClientId: clientId, AuthParameters: params }),
  });
  return { status: res.status, requestId: res.headers.get('x-amzn-requestid'), body: (await res.json()) as CognitoAnswer['body'] };
}

export function hash(secret: string, username: string, clientId: string): string {
  return createHmac('sha256', secret)
    .update(username + clientId)
    .digest('base64');
}

/** An ID token for the default user (or `username`/`password`) of the no-secret client. */
export async function idToken(sim: Pick<MomentsSimulator, 'cognitoEndpoint'>, username = 'demo', password = 'demo-password'): Promise<string> {
  const answer = await initiateAuth(sim, 'sim-client', 'USER_PASSWORD_AUTH', { USERNAME: username, PASSWORD: password });
  if (!answer.body.AuthenticationResult) throw new Error(`login failed: ${JSON.stringify(answer.body)}`);
  return answer.body.AuthenticationResult.IdToken;
}

export function claims(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

export interface GraphqlAnswer {
  status: number;
  body: { data?: any; errors?: Array<{ message: string; errorType: string; path?: unknown[] }> };
}

export async function gql(
  sim: Pick<MomentsSimulator, 'graphqlUrl'>,
  token: string,
  query: string,
  variables?: Record<string, unknown>,
): Promise<GraphqlAnswer> {
  const res = await fetch(sim.graphqlUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: token },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as GraphqlAnswer['body'] };
}
