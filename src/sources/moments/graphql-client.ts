import { MomentsGraphqlError, MomentsHttpError, type GraphqlErrorEntry } from './moments-errors.js';
import { buildClientSchema, getIntrospectionQuery, type GraphQLSchema, type IntrospectionQuery } from 'graphql';

/** Comparison operators of an AppSync model filter, e.g. `{ createdAt: { ge: "<ISO>" } }`. */
export interface FieldFilter {
  eq?: string | number;
  ne?: string | number;
  gt?: string | number;
  ge?: string | number;
  lt?: string | number;
  le?: string | number;
  between?: [string | number, string | number];
  beginsWith?: string;
}

export type ModelFilter = { [field: string]: FieldFilter | ModelFilter[] | undefined } & { and?: ModelFilter[]; or?: ModelFilter[] };

export interface ListArgs {
  filter?: ModelFilter;
  limit?: number;
  nextToken?: string | null;
  /** e.g. `[{ createdAt: 'ASC' }]` */
  orderBy?: Array<Record<string, 'ASC' | 'DESC'>>;
}

export interface GraphqlClientOptions {
  url: string;
  /** Returns the current token for the `Authorization` header. */
  token: () => Promise<string>;
  /** Called after a 401: must return a fresh token (refresh or re-login). */
  refreshToken: () => Promise<string>;
  /** @defaultValue 15000 */
  timeoutMs?: number;
}

/** Raw upstream objects; the source validates them with zod. */
export type RawItem = Record<string, unknown>;

/**
 * GraphQL over HTTP to the engine's AppSync API (the transport; documents come from schema-discovery). Every failure becomes a typed error that names
 * the operation: MomentsHttpError (status, retryable for 5xx/429/network) or MomentsGraphqlError.
 * A 401 is answered once by refreshing the token and trying again.
 */
export class GraphqlClient {
  private readonly options: GraphqlClientOptions;

  constructor(options: GraphqlClientOptions) {
    if (!options.url) throw new TypeError('GraphqlClient: url is required');
    this.options = options;
  }

  /**
   * The engine's schema, by the standard introspection query over the same authenticated POST.
   * Throws (MomentsGraphqlError / MomentsHttpError) when the engine refuses it, as AppSync can.
   */
  async introspect(): Promise<GraphQLSchema> {
    const data = await this.request<IntrospectionQuery>('introspection', getIntrospectionQuery({ descriptions: false }), {});
    try {
      return buildClientSchema(data);
    } catch (err) {
      throw new MomentsHttpError(`Moments GraphQL introspection answered with an unusable schema: ${(err as Error).message}`, { retryable: false, cause: err });
    }
  }

  /** One GraphQL request; `operation` names it in errors. */
  async request<T>(operation: string, query: string, variables: Record<string, unknown>): Promise<T> {
    let res = await this.post(operation, query, variables, await this.options.token());
    if (res.status === 401) res = await this.post(operation, query, variables, await this.options.refreshToken());
    const text = await res.text();
    let body: { data?: T | null; errors?: GraphqlErrorEntry[] } | undefined;
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      // Not JSON: reported with the status below.
    }
    if (!res.ok) {
      const detail = body?.errors?.map((e) => `${e.errorType ?? 'Error'}: ${e.message}`).join('; ') ?? text.slice(0, 200);
      const retryable = res.status >= 500 || res.status === 429 || res.status === 408;
      throw new MomentsHttpError(`Moments GraphQL ${operation} failed with HTTP ${res.status}: ${detail}`, { status: res.status, retryable });
    }
    if (!body) throw new MomentsHttpError(`Moments GraphQL ${operation}: response is not JSON: ${text.slice(0, 200)}`, { status: res.status, retryable: true });
    if (body.errors?.length) throw new MomentsGraphqlError(operation, body.errors);
    if (!body.data) throw new MomentsHttpError(`Moments GraphQL ${operation}: response has neither data nor errors`, { status: res.status, retryable: true });
    return body.data;
  }

  private async post(operation: string, query: string, variables: Record<string, unknown>, token: string): Promise<Response> {
    try {
      return await fetch(this.options.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', Authorization: token },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 15_000),
      });
    } catch (err) {
      throw new MomentsHttpError(`Moments GraphQL ${operation} to ${this.options.url} failed: ${(err as Error).message}`, { retryable: true, cause: err });
    }
  }
}
