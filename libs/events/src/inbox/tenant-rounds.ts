/**
 * Splits one partition's events into transaction groups, in the order they are to run: per round,
 * one group of up to `groupSize` events of every tenant that still has some, tenants in the order
 * of their first pending event. So a burst of one tenant holds another tenant's events back by at
 * most one group, while each tenant's (and so each key's) events keep their order.
 */
export function tenantRounds<T>(
  events: readonly T[],
  tenantOf: (event: T) => string,
  groupSize: number,
): T[][] {
  if (!Number.isInteger(groupSize) || groupSize < 1) {
    throw new Error(`group size must be a positive integer, got ${groupSize}`);
  }
  const queues = new Map<string, T[]>();
  for (const event of events) {
    const tenant = tenantOf(event);
    const queue = queues.get(tenant);
    if (queue) queue.push(event);
    else queues.set(tenant, [event]);
  }
  const groups: T[][] = [];
  // Map order is first appearance, so within a round the tenant whose events came first runs first.
  for (let start = 0; queues.size > 0; start += groupSize) {
    for (const [tenant, queue] of queues) {
      groups.push(queue.slice(start, start + groupSize));
      if (start + groupSize >= queue.length) queues.delete(tenant);
    }
  }
  return groups;
}
