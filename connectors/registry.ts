import type { ConnectorPlugin } from './connector.js';

/** Every built-in connector type, by `type`. One line per connector; `type: module` loads a user's own. */
export const connectorPlugins: ReadonlyMap<string, ConnectorPlugin> = new Map<string, ConnectorPlugin>([
]);
