/**
 * Janus node selection. Each worker keeps one Janus session for its call; spreading workers over the configured
 * nodes by a hash of the worker id balances them without coordination, and the rest of the list is the fallback
 * order when a node does not answer.
 */
export function orderJanusNodes(urls: readonly string[], workerId: string): string[] {
  if (urls.length <= 1) return [...urls];
  let hash = 0;
  for (const char of workerId) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  const start = hash % urls.length;
  return [...urls.slice(start), ...urls.slice(0, start)];
}
