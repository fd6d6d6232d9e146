/** What a DLQ entry is matched on; each field given narrows, values within one field widen. */
export interface DeadLetterFilter {
  readonly eventIds?: readonly string[];
  readonly tenantIds?: readonly string[];
  readonly eventTypes?: readonly string[];
  /** Entries that failed at or after this time. */
  readonly since?: Date;
  /** Entries that failed before this time. */
  readonly until?: Date;
}

export interface FilterableEntry {
  readonly eventId?: string;
  readonly tenantId?: string;
  readonly eventType?: string;
  /** ISO time the entry failed. */
  readonly failedAt?: string;
}

function oneOf(values: readonly string[] | undefined, value: string | undefined): boolean {
  return !values || values.length === 0 || (value !== undefined && values.includes(value));
}

export function matchesDeadLetterFilter(entry: FilterableEntry, filter: DeadLetterFilter): boolean {
  if (!oneOf(filter.eventIds, entry.eventId)) return false;
  if (!oneOf(filter.tenantIds, entry.tenantId)) return false;
  if (!oneOf(filter.eventTypes, entry.eventType)) return false;
  if (filter.since || filter.until) {
    const failedAt = entry.failedAt ? Date.parse(entry.failedAt) : NaN;
    // An entry of unknown time cannot be said to lie inside a window.
    if (Number.isNaN(failedAt)) return false;
    if (filter.since && failedAt < filter.since.getTime()) return false;
    if (filter.until && failedAt >= filter.until.getTime()) return false;
  }
  return true;
}
