import type { SourcePlugin } from '../source.js';
import { MomentsSource } from './moments-source.js';
import { momentsSourceConfigSchema } from './source-config.js';

/** The Moments Engine source plugin (`type: moments`). */
export const momentsSource: SourcePlugin<typeof momentsSourceConfigSchema> = {
  type: 'moments',
  configSchema: momentsSourceConfigSchema,
  create: (config, ctx) => new MomentsSource(config, ctx),
};
