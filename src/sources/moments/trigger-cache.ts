import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { MomentsApi } from './moments-api.js';
import { parseTrigger, type Trigger } from './moments-schemas.js';

export type TriggerChange = 'trigger.created' | 'trigger.updated';

export interface TriggerCacheOptions {
  /** The current API (undefined before start). */
  api: () => MomentsApi | undefined;
  /** The source's logger (bound to the source). */
  logger: Logger;
}

/**
 * The source's triggers by publicId, for moment enrichment (name, marker, labels). Filled by the
 * trigger back-fill (TriggerChanges) and by every trigger change.
 */
export class TriggerCache {
  private readonly triggers = new Map<string, Trigger>();
  private readonly options: TriggerCacheOptions;

  constructor(options: TriggerCacheOptions) {
    this.options = options;
  }

  /** The cached trigger, without fetching. */
  peek(publicId: string): Trigger | undefined {
    return this.triggers.get(publicId);
  }

  set(trigger: Trigger): void {
    this.triggers.set(trigger.publicId, trigger);
  }

  /** The trigger, from the cache or else with getTrigger; best effort (undefined on any failure). */
  async lookup(publicId: string | null | undefined): Promise<Trigger | undefined> {
    const api = this.options.api();
    if (!publicId) return undefined;
    const cached = this.triggers.get(publicId);
    if (cached || !api) return cached;
    try {
      const parsed = parseTrigger(await api.getTrigger(publicId));
      if (parsed.ok) this.triggers.set(publicId, parsed.value);
      return parsed.ok ? parsed.value : undefined;
    } catch (err) {
      // Enrichment is best effort: the moment still goes out, without labels.
      this.options.logger.debug({ err: errorMessage(err) }, `getTrigger ${publicId} failed`);
      return undefined;
    }
  }
}
