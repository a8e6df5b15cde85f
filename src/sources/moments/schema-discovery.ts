import { Kind, parse, validate, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode, type TypeNode } from 'graphql';
import type { Logger } from '../../core/log.js';
import { errorMessage } from '../../core/errors.js';
import { MomentsDocumentError, type DocumentOrigin } from './moments-errors.js';
import {
  buildOperationDocument,
  MOMENTS_OPERATIONS,
  planListMoments,
  planListTriggers,
  UnbuildableOperation,
  type CreatedAtOperator,
  type ListMomentsPlan,
  type MomentsOperation,
} from './operation-documents.js';

/** The docs section an operator reads when a document is missing or wrong. */
export const DOCUMENTS_HELP = 'docs/moments-engine.md#graphql-documents';

export interface ResolvedOperation {
  operation: MomentsOperation;
  document: string;
  origin: DocumentOrigin;
  /** Variables the document declares: the client sends only these. */
  variables: ReadonlySet<string>;
}

/** What the bridge will run against one engine. */
export interface OperationSet {
  operations: Partial<Record<MomentsOperation, ResolvedOperation>>;
  /** Why an operation has no document (the error it throws when used). */
  unavailable: Partial<Record<MomentsOperation, MomentsDocumentError>>;
  listMoments: ListMomentsPlan;
  /** How listTriggers filters on updatedAt (from the schema only: without one the trigger back-fill lists all). */
  listTriggers: { updatedAtOperator?: CreatedAtOperator };
  /** The engine's schema, when introspection worked. */
  schema?: GraphQLSchema;
  /** Why introspection failed, when it did. */
  introspectionError?: string;
}

export interface OperationDiscoveryOptions {
  /** Fetches the engine's schema (standard introspection over the authenticated endpoint). */
  introspect: () => Promise<GraphQLSchema>;
  /** Documents from config; each wins over discovery. */
  configured: Partial<Record<MomentsOperation, string>>;
  /** The source's config path, e.g. `sources.moments`, used in messages. */
  configPath: string;
  /** An introspection failure that says nothing about the engine (unreachable, 5xx): thrown, not taken as a refusal. */
  isTransient?: (err: unknown) => boolean;
  logger?: Logger;
}

/** The variables an operation document declares, e.g. `filter`, `limit`. */
export function declaredVariables(document: DocumentNode): Set<string> {
  const op = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  return new Set(op?.variableDefinitions?.map((v) => v.variable.name.value) ?? []);
}

function variableType(document: DocumentNode, name: string): TypeNode | undefined {
  const op = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  return op?.variableDefinitions?.find((v) => v.variable.name.value === name)?.type;
}

/**
 * Without a schema, what a configured listMoments document says about itself: `$orderBy` declared
 * as a list or an object; the filter operator is the one the vendor's filters use (`ge`). A
 * document that filters differently declares `$since` and writes the filter itself.
 */
function planFromDocument(document: DocumentNode): ListMomentsPlan {
  const plan: ListMomentsPlan = {};
  if (declaredVariables(document).has('filter')) plan.createdAtOperator = 'ge';
  let orderType = variableType(document, 'orderBy');
  if (orderType?.kind === Kind.NON_NULL_TYPE) orderType = orderType.type;
  if (orderType) plan.orderBy = { shape: orderType.kind === Kind.LIST_TYPE ? 'list' : 'object', ascending: 'ASC' };
  return plan;
}

/**
 * Resolves one document per operation — from config when given, else built from the engine's
 * schema by introspection — once per process (until `invalidate`). Failures become one
 * MomentsDocumentError per operation that says what to set in config.
 */
export class OperationDiscovery {
  private readonly options: OperationDiscoveryOptions;
  private current: Promise<OperationSet> | undefined;

  constructor(options: OperationDiscoveryOptions) {
    this.options = options;
  }

  /** The cached operation set (discovers on first use). */
  resolve(): Promise<OperationSet> {
    this.current ??= this.discover().catch((err: unknown) => {
      this.current = undefined;
      throw err;
    });
    return this.current;
  }

  /** Forget the cached set: the next `resolve` introspects again (after the engine refused a document). */
  invalidate(): void {
    this.current = undefined;
  }

  /** The config key that holds the document of `operation`. */
  configKey(operation: MomentsOperation): string {
    return `${this.options.configPath}.documents.${operation}`;
  }

  /** The resolved operation, or the error that says why there is none. */
  async require(operation: MomentsOperation): Promise<ResolvedOperation> {
    const set = await this.resolve();
    const op = set.operations[operation];
    if (op) return op;
    throw (
      set.unavailable[operation] ??
      new MomentsDocumentError('moments_document_missing', operation, `${operation}: no document; set ${this.configKey(operation)} (see ${DOCUMENTS_HELP})`)
    );
  }

  /** The error for a document the engine refused, naming where it came from and what to change. */
  rejected(op: ResolvedOperation, engineText: string, cause?: unknown): MomentsDocumentError {
    const key = this.configKey(op.operation);
    const message =
      op.origin === 'config'
        ? `${op.operation} (from ${key}) was rejected by the engine: ${engineText} — fix that document (see ${DOCUMENTS_HELP})`
        : `${op.operation} (built from the engine's schema by introspection) was rejected by the engine: ${engineText} — set ${key} to a document this engine accepts (see ${DOCUMENTS_HELP})`;
    return new MomentsDocumentError('moments_document_rejected', op.operation, message, { cause });
  }

  private async discover(): Promise<OperationSet> {
    const { configured, logger } = this.options;
    let schema: GraphQLSchema | undefined;
    let introspectionError: string | undefined;
    try {
      schema = await this.options.introspect();
    } catch (err) {
      if (this.options.isTransient?.(err)) throw err;
      introspectionError = errorMessage(err);
      const unconfigured = MOMENTS_OPERATIONS.filter((op) => !configured[op]);
      if (unconfigured.length)
        logger?.warn(
          { err: introspectionError },
          `moments: the engine refused introspection; no document for ${unconfigured.join(', ')} (set ${this.options.configPath}.documents.*)`,
        );
    }
    const set: OperationSet = {
      operations: {},
      unavailable: {},
      listMoments: {},
      listTriggers: schema ? planListTriggers(schema) : {},
      schema,
      introspectionError,
    };
    for (const operation of MOMENTS_OPERATIONS) {
      const key = this.configKey(operation);
      const text = configured[operation];
      if (text) {
        const document = parse(text);
        if (schema) {
          const errors = validate(schema, document);
          if (errors.length) {
            set.unavailable[operation] = this.rejected(
              { operation, document: text, origin: 'config', variables: new Set() },
              errors.map((e) => e.message).join('; '),
            );
            continue;
          }
        }
        set.operations[operation] = { operation, document: text, origin: 'config', variables: declaredVariables(document) };
        continue;
      }
      if (!schema) {
        set.unavailable[operation] = new MomentsDocumentError(
          'moments_document_missing',
          operation,
          `${operation}: the engine refused introspection (${introspectionError ?? 'no schema'}) and ${key} is not set: add the ${operation.startsWith('on') ? 'subscription' : 'query'} there (see ${DOCUMENTS_HELP})`,
        );
        continue;
      }
      try {
        const document = buildOperationDocument(schema, operation);
        set.operations[operation] = { operation, document, origin: 'introspection', variables: declaredVariables(parse(document)) };
      } catch (err) {
        if (!(err instanceof UnbuildableOperation)) throw err;
        set.unavailable[operation] = new MomentsDocumentError(
          'moments_document_unbuildable',
          operation,
          `${operation}: ${err.message}; set ${key} to a document this engine accepts (see ${DOCUMENTS_HELP})`,
        );
      }
    }
    const list = set.operations.listMoments;
    // The schema says what the engine takes; a configured document's own variables say what it sends.
    set.listMoments =
      list?.origin === 'config'
        ? mergePlan(planFromDocument(parse(list.document)), schema ? planListMoments(schema) : {})
        : schema
          ? planListMoments(schema)
          : {};
    return set;
  }
}

/** A configured document decides whether there is an orderBy/filter; the schema, when known, says which operator and direction names. */
function mergePlan(fromDocument: ListMomentsPlan, fromSchema: ListMomentsPlan): ListMomentsPlan {
  return {
    createdAtOperator: fromDocument.createdAtOperator && (fromSchema.createdAtOperator ?? fromDocument.createdAtOperator),
    orderBy: fromDocument.orderBy && (fromSchema.orderBy ?? fromDocument.orderBy),
  };
}
