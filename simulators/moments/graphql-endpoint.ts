import { execute, getOperationAST, parse, validate, visit, type DocumentNode, type GraphQLError } from 'graphql';
import type { SimulatorSchema } from './simulator-schema.js';

/** One error as AppSync serialises it: `errorType` beside the GraphQL fields. */
export interface AppSyncError {
  message: string;
  errorType: string;
  locations?: ReadonlyArray<{ line: number; column: number }>;
  path?: ReadonlyArray<string | number>;
}

export interface GraphqlAnswer {
  status: number;
  body: { data?: unknown; errors?: AppSyncError[] };
}

export function appSyncErrors(errors: readonly GraphQLError[], fallbackType: string): AppSyncError[] {
  return errors.map((e) => ({
    message: e.message,
    errorType: (e.originalError as { errorType?: string } | undefined)?.errorType ?? fallbackType,
    ...(e.locations ? { locations: e.locations } : {}),
    ...(e.path ? { path: e.path } : {}),
  }));
}

/**
 * With introspection disabled, AppSync hides `__schema` and `__type` (graphql-java field
 * visibility), so a query naming them fails validation as an undefined field; `__typename`
 * stays available. The AWS documentation does not print the message; this is graphql-java's
 * FieldUndefined wording in AppSync's "Validation error of type …" form.
 */
export function introspectionErrors(document: DocumentNode): AppSyncError[] {
  const errors: AppSyncError[] = [];
  visit(document, {
    Field(node) {
      const name = node.name.value;
      if (name !== '__schema' && name !== '__type') return;
      const loc = node.loc ? [{ line: node.loc.startToken.line, column: node.loc.startToken.column }] : undefined;
      errors.push({
        errorType: 'ValidationError',
        message: `Validation error of type FieldUndefined: Field '${name}' in type 'Query' is undefined @ '${name}'`,
        ...(loc ? { locations: loc } : {}),
      });
    },
  });
  return errors;
}

/**
 * Runs one GraphQL-over-HTTP request as AppSync does: queries only (a subscription sent over HTTP
 * is refused with AppSync's answer for it), introspection gated, resolver errors with errorType.
 */
export async function runGraphqlRequest(
  variant: SimulatorSchema,
  request: { query: string; variables?: Record<string, unknown> | null; operationName?: string | null },
  rootValue: Record<string, unknown>,
  introspection: boolean,
): Promise<GraphqlAnswer> {
  let document: DocumentNode;
  try {
    document = parse(request.query);
  } catch (err) {
    return { status: 200, body: { data: null, errors: appSyncErrors([err as GraphQLError], 'ValidationError') } };
  }
  if (!introspection) {
    const hidden = introspectionErrors(document);
    if (hidden.length) return { status: 200, body: { data: null, errors: hidden } };
  }
  const validation = validate(variant.schema, document);
  if (validation.length) return { status: 200, body: { data: null, errors: appSyncErrors(validation, 'ValidationError') } };
  const operation = getOperationAST(document, request.operationName ?? undefined);
  if (operation?.operation === 'subscription') {
    // AppSync's answer to a subscription POSTed to the HTTP endpoint (a relic of its MQTT era):
    // https://github.com/awslabs/aws-mobile-appsync-sdk-android/issues/356
    return { status: 400, body: { errors: [{ errorType: 'BadRequestException', message: 'Subscriptions over MQTT is not supported.' }] } };
  }
  const result = await execute({
    schema: variant.schema,
    document,
    rootValue,
    variableValues: request.variables ?? undefined,
    operationName: request.operationName ?? undefined,
  });
  const body: GraphqlAnswer['body'] = { data: result.data ?? null };
  if (result.errors?.length) body.errors = appSyncErrors(result.errors, result.data ? 'ExecutionError' : 'ValidationError');
  return { status: 200, body };
}
