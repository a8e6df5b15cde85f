import type { SourcePlugin } from './source.js';
import { observerSource } from './observer/index.js';
import { momentsSource } from './moments/index.js';

/** Every built-in source type, by `type`. One line per source. */
export const sourcePlugins: ReadonlyMap<string, SourcePlugin> = new Map<string, SourcePlugin>([
  ['observer', observerSource],
  ['moments', momentsSource],
]);
