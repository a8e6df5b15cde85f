import type { ListArgs, RawItem } from './graphql-client.js';
import type { Connection } from './moments-schemas.js';
import type { MomentsOperation } from './operation-documents.js';
import type { RealtimeState } from './appsync/realtime-options.js';

export type Unsubscribe = () => void;

/** Real-time connection states, plus `subscribed`: every subscription is live (back-fill now). */
export type MomentsConnectionState =
  | RealtimeState
  | { status: 'subscribed'; reconnect: boolean }
  /** The engine refused a subscription for good (its document): no live items of that kind until a config change. */
  | { status: 'subscription_refused'; operation: MomentsOperation; error: string };

/**
 * The documented Moments SDK surface the source relies on. Our MomentsClient implements it; the
 * official `@dataworks-technology/moments` package (loaded with `sdk:`) is used through it too.
 */
export interface MomentsApi {
  login(username: string, password: string): Promise<void>;
  listTriggers(args?: ListArgs): Promise<Connection<RawItem>>;
  getTrigger(publicId: string): Promise<RawItem | null>;
  listMoments(args?: ListArgs): Promise<Connection<RawItem>>;
  getMoment(publicId: string): Promise<RawItem | null>;
  onMoments(handler: (moment: RawItem) => void): Unsubscribe;
  onTriggerCreated(handler: (trigger: RawItem) => void): Unsubscribe;
  onTriggerUpdated(handler: (trigger: RawItem) => void): Unsubscribe;
  /** Optional in an SDK: without it the source back-fills periodically (`backfillEvery`). */
  onConnectionStateChange?(listener: (state: MomentsConnectionState) => void): Unsubscribe;
  /**
   * Whether listMoments can filter `createdAt ≥ cursor` and sort ascending on this engine; when
   * not, the back-fill reads the whole window and filters/sorts itself. An SDK without it is
   * taken at its word (the vendor documents filter and orderBy).
   */
  backfillSupport?(): { filters: boolean; sorts: boolean };
  /**
   * Whether listTriggers can filter `updatedAt ≥ t` on this engine; when not (or when an SDK does
   * not say), the trigger back-fill lists every trigger and compares updatedAt itself.
   */
  triggerBackfillSupport?(): { filters: boolean };
  /** Throws a MomentsDocumentError naming the config key when one of `operations` has no usable document. */
  requireOperations?(operations: readonly MomentsOperation[]): Promise<void>;
  /** Subscriptions the engine refused for good, with its reason (empty when every one is live). */
  refusedSubscriptions?(): ReadonlyMap<MomentsOperation, string>;
  close(): Promise<void>;
}
