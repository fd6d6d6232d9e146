import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * A name no other replica, and no later process of this one, will use: per-instance consumer
 * groups and inbox rows are keyed by it, so a restarted pod never inherits a dead one's offsets.
 */
export function newInstanceId(): string {
  const host = hostname()
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .slice(0, 40);
  return `${host || 'host'}-${randomUUID().slice(0, 8)}`;
}
