import { errorMessage } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { QuarantinedItem } from '../source.js';
import type { RawItem } from './graphql-client.js';
import type { MomentsApi } from './moments-client.js';
import { parseTrigger, type Trigger } from './moments-schemas.js';

export type TriggerChange = 'trigger.created' | 'trigger.updated';

export interface TriggerCacheOptions {
  /** The current API (undefined before start). */
  api: () => MomentsApi | undefined;
  quarantine: (item: Omit<QuarantinedItem, 'source'>) => Promise<void>;
  logger: Logger;
  source: string;
}

/**
 * The source's triggers by publicId, for moment enrichment (name, marker, labels) and for noticing
 * trigger changes missed while the socket was down.
 */
export class TriggerCache {
  private readonly triggers = new Map<string, Trigger>();
  private readonly options: TriggerCacheOptions;
  private loaded = false;

  constructor(options: TriggerCacheOptions) {
    this.options = options;
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
      this.options.logger.debug({ source: this.options.source, err: errorMessage(err) }, `getTrigger ${publicId} failed`);
      return undefined;
    }
  }

  /**
   * Fills the cache with listTriggers. With `onChange` (after a reconnect), triggers created or
   * changed since the last fill are reported instead, since their live notifications were missed.
   */
  async refresh(onChange?: (kind: TriggerChange, raw: RawItem) => void): Promise<void> {
    const api = this.options.api();
    if (!api) return;
    try {
      let nextToken: string | null | undefined;
      do {
        const page = await api.listTriggers({ limit: 100, nextToken });
        for (const raw of page.items) {
          if (onChange && this.loaded) {
            const known = this.triggers.get(String(raw.publicId));
            if (!known) onChange('trigger.created', raw);
            else if (known.updatedAt !== raw.updatedAt) onChange('trigger.updated', raw);
            continue;
          }
          const parsed = parseTrigger(raw);
          if (parsed.ok) this.triggers.set(parsed.value.publicId, parsed.value);
          else await this.options.quarantine({ kind: 'trigger', reason: parsed.reason, raw });
        }
        nextToken = page.nextToken;
      } while (nextToken);
      this.loaded = true;
    } catch (err) {
      const source = this.options.source;
      this.options.logger.warn({ source, err: errorMessage(err) }, `moments source ${source}: listTriggers failed, moment events may lack trigger labels until the next reconnect: ${errorMessage(err)}`);
    }
  }
}
