import type { IncomingMessage, ServerResponse } from 'node:http';
import { runGraphqlRequest } from './graphql-endpoint.js';
import { json, readBody } from './http-io.js';
import { ListQuery, type PageArgs } from './list-query.js';
import type { MomentsStore } from './moments-store.js';
import type { SimulatorSchema } from './simulator-schema.js';
import type { TokenIssuer } from './token-issuer.js';

export interface GraphqlHttpOptions {
  store: MomentsStore;
  /** Renders the canonical store in the served schema variant. */
  variant: SimulatorSchema;
  introspection: boolean;
  tokens: TokenIssuer;
  /** The status of an injected failure for this request (simulator control `fail-next`), if any. */
  takeFailure: () => number | undefined;
}

/**
 * AppSync GraphQL over HTTP (`POST /graphql`): Cognito-token auth, then the queries over the store,
 * filtered and paged canonically and rendered by the schema variant.
 */
export class GraphqlHttpEndpoint {
  readonly stats = { graphqlRequests: 0, graphqlUnauthorized: 0, introspectionRequests: 0 };
  private readonly lists = new ListQuery();
  private readonly rootValue: Record<string, unknown>;

  constructor(private readonly options: GraphqlHttpOptions) {
    const { store, variant } = options;
    this.rootValue = {
      listMoments: (args: PageArgs) => {
        const page = this.lists.page('listMoments', store.moments, args);
        return { ...page, items: page.items.map(variant.renderMoment) };
      },
      getMoment: ({ publicId }: { publicId: string }) => {
        const moment = store.moments.find((m) => m.publicId === publicId);
        return moment ? variant.renderMoment(moment) : null;
      },
      listTriggers: (args: PageArgs) => {
        const page = this.lists.page('listTriggers', [...store.triggers.values()], args);
        return { ...page, items: page.items.map(variant.renderTrigger) };
      },
      getTrigger: ({ publicId }: { publicId: string }) => {
        const trigger = store.triggers.get(publicId);
        return trigger ? variant.renderTrigger(trigger) : null;
      },
    };
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { stats } = this;
    stats.graphqlRequests += 1;
    const failStatus = this.options.takeFailure();
    if (failStatus) return json(res, failStatus, { errors: [{ errorType: 'InternalFailure', message: 'Injected failure (simulator control fail-next)' }] });
    const auth = this.options.tokens.verify(req.headers.authorization);
    if (!auth.ok) {
      stats.graphqlUnauthorized += 1;
      return json(res, 401, { errors: [{ errorType: 'UnauthorizedException', message: auth.reason }] }, { 'x-amzn-ErrorType': 'UnauthorizedException' });
    }
    let body: { query?: unknown; variables?: Record<string, unknown> | null; operationName?: string | null };
    try {
      body = JSON.parse(await readBody(req)) as typeof body;
    } catch {
      return json(res, 400, { errors: [{ errorType: 'MalformedHttpRequestException', message: 'Request body is not JSON' }] });
    }
    if (typeof body.query !== 'string') return json(res, 400, { errors: [{ errorType: 'MalformedHttpRequestException', message: 'Missing "query"' }] });
    if (body.query.includes('__schema')) stats.introspectionRequests += 1;
    const answer = await runGraphqlRequest(
      this.options.variant,
      { query: body.query, variables: body.variables, operationName: body.operationName },
      this.rootValue,
      this.options.introspection,
    );
    return json(res, answer.status, answer.body);
  }
}
