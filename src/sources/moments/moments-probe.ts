import { MomentsClient } from './moments-client.js';
import { MomentsAuthError, MomentsDocumentError } from './moments-errors.js';
import { MOMENTS_OPERATIONS } from './operation-documents.js';
import { configuredDocuments, type MomentsSourceConfig } from './source-config.js';

export interface MomentsProbeReport {
  /** Human-readable lines: one per operation (document and origin), then the back-fill plan. */
  lines: string[];
  /** Problems only a config change fixes: document errors and refused credentials, each one clear message. */
  problems: string[];
}

/** Operations the source runs; `getMoment` is listed but not needed. */
const NEEDED = new Set(['listMoments', 'onCreateMoment', 'listTriggers', 'getTrigger', 'onCreateTrigger', 'onUpdateTrigger']);

/**
 * Logs in to one moments source and resolves its documents exactly as the daemon would, for
 * `check --online`. Network failures are thrown (they say nothing about the config).
 */
export async function probeMomentsSource(name: string, config: MomentsSourceConfig): Promise<MomentsProbeReport> {
  if (config.sdk) return { lines: [`sources.${name}: uses the SDK ${config.sdk}; its own documents apply (nothing to discover)`], problems: [] };
  const client = new MomentsClient({
    cognitoEndpoint: config.cognitoEndpoint,
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    graphqlUrl: config.graphqlUrl,
    documents: configuredDocuments(config),
    configPath: `sources.${name}`,
  });
  try {
    try {
      await client.login(config.username, config.password);
    } catch (err) {
      if (err instanceof MomentsAuthError && !err.retryable) return { lines: [], problems: [`sources.${name}: ${err.message}`] };
      throw err;
    }
    const set = await client.operations();
    const lines = [`sources.${name}: ${set.schema ? 'introspection answered' : `introspection refused (${set.introspectionError ?? 'no schema'})`}`];
    const problems: string[] = [];
    for (const op of MOMENTS_OPERATIONS) {
      const resolved = set.operations[op];
      if (resolved) {
        lines.push(
          `  ${op}  (from ${resolved.origin === 'config' ? `config: sources.${name}.documents.${op}` : 'introspection'})`,
          ...resolved.document.split('\n').map((l) => `      ${l}`),
        );
        continue;
      }
      const error = set.unavailable[op] ?? new MomentsDocumentError('moments_document_missing', op, `${op}: no document`);
      if (NEEDED.has(op)) {
        lines.push(`  ${op}  UNAVAILABLE`);
        problems.push(error.message);
      } else lines.push(`  ${op}  unavailable (not used by the daemon): ${error.message}`);
    }
    const plan = set.listMoments;
    const support = client.backfillSupport();
    lines.push(
      `  back-fill: ${support.filters ? `createdAt ${plan.createdAtOperator ?? '$since'} <cursor>` : 'no createdAt filter: reads the whole window'}, ${plan.orderBy ? `orderBy ${plan.orderBy.shape === 'list' ? '[{ createdAt: ' + plan.orderBy.ascending + ' }]' : '{ createdAt: ' + plan.orderBy.ascending + ' }'}` : 'no orderBy: sorted client-side'}`,
    );
    return { lines, problems };
  } finally {
    await client.close();
  }
}
