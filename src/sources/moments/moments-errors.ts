import { BridgeError } from '../../core/errors.js';

/**
 * Errors of the Moments Engine client. Each says what failed and whether trying again can help:
 * `retryable: false` means a human must act (wrong credentials, a broken query document).
 */
export class MomentsError extends BridgeError {
  readonly retryable: boolean;

  constructor(code: string, message: string, options: { retryable: boolean; cause?: unknown }) {
    super(code, message, { cause: options.cause });
    this.name = 'MomentsError';
    this.retryable = options.retryable;
  }
}

/** Cognito refused the credentials (`NotAuthorizedException`, `UserNotFoundException`, …): never retried. */
export class MomentsAuthError extends MomentsError {
  /** The Cognito error type, e.g. `NotAuthorizedException`. */
  readonly awsType: string;

  constructor(awsType: string, message: string, options: { retryable: boolean; cause?: unknown }) {
    super(options.retryable ? 'moments_auth_unavailable' : 'moments_auth_failed', message, options);
    this.name = 'MomentsAuthError';
    this.awsType = awsType;
  }
}

/** The GraphQL endpoint answered with an HTTP error or could not be reached. */
export class MomentsHttpError extends MomentsError {
  readonly status: number | undefined;

  constructor(message: string, options: { status?: number; retryable: boolean; cause?: unknown }) {
    super('moments_http_error', message, options);
    this.name = 'MomentsHttpError';
    this.status = options.status;
  }
}

export interface GraphqlErrorEntry {
  message: string;
  errorType?: string;
  path?: readonly (string | number)[];
}

/** The GraphQL response carried `errors` (validation, resolver or authorization errors). */
export class MomentsGraphqlError extends MomentsError {
  readonly errors: readonly GraphqlErrorEntry[];

  constructor(operation: string, errors: readonly GraphqlErrorEntry[]) {
    const text = errors.map((e) => (e.errorType ? `${e.errorType}: ${e.message}` : e.message)).join('; ');
    super('moments_graphql_error', `Moments GraphQL ${operation} failed: ${text}`, { retryable: false });
    this.name = 'MomentsGraphqlError';
    this.errors = errors;
  }
}

/** The real-time endpoint broke the AppSync protocol or refused a subscription. */
export class MomentsRealtimeError extends MomentsError {
  constructor(code: string, message: string, options: { retryable: boolean; cause?: unknown }) {
    super(code, message, options);
    this.name = 'MomentsRealtimeError';
  }
}

/** The optional official SDK (`sdk:` in config) could not be loaded or lacks the documented API. */
export class MomentsSdkError extends MomentsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('moments_sdk_invalid', message, { retryable: false, cause: options?.cause });
    this.name = 'MomentsSdkError';
  }
}

/** Where a GraphQL document came from: built from the engine's schema, or written in the source config. */
export type DocumentOrigin = 'introspection' | 'config';

/**
 * The bridge has no working document for an operation. Codes: `moments_document_missing` (the
 * engine refused introspection and the config has none), `moments_document_unbuildable` (the
 * schema has no usable field), `moments_document_rejected` (the engine refused the document).
 * The message names the operation, the engine's words and the config key that fixes it.
 */
export class MomentsDocumentError extends MomentsError {
  readonly operation: string;

  constructor(
    code: 'moments_document_missing' | 'moments_document_unbuildable' | 'moments_document_rejected',
    operation: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, { retryable: false, cause: options?.cause });
    this.name = 'MomentsDocumentError';
    this.operation = operation;
  }
}
