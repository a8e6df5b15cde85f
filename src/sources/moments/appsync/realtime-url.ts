/** AppSync's rule for the real-time endpoint of a GraphQL endpoint. */
export function realtimeUrlFor(graphqlUrl: string): string {
  const u = new URL(graphqlUrl);
  if (u.hostname.includes('appsync-api')) {
    u.hostname = u.hostname.replace('appsync-api', 'appsync-realtime-api');
  } else {
    // Custom domains serve the real-time API under `<graphql path>/realtime`.
    u.pathname = `${u.pathname.replace(/\/$/, '')}/realtime`;
  }
  u.protocol = u.protocol === 'http:' ? 'ws:' : 'wss:';
  return u.toString();
}
