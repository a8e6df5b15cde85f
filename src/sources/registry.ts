import type { SourcePlugin } from './source.js';

/** Every built-in source type, by `type`. One line per source. */
export const sourcePlugins: ReadonlyMap<string, SourcePlugin> = new Map<string, SourcePlugin>([
]);
