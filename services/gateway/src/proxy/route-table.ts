/** One entry of the gateway's route table: a path prefix and the service that owns it. */
export interface RouteEntry {
  /** `/v1/members`: matches `/v1/members` and `/v1/members/...`, never `/v1/membersx`. */
  readonly prefix: string;
  readonly service: string;
}

/** Entries sorted longest prefix first, so the most specific owner wins. */
export type RouteTable = readonly RouteEntry[];

export interface ResolvedRoute {
  readonly entry: RouteEntry;
  /** The request path (no query). */
  readonly path: string;
}

const PREFIX = /^\/[A-Za-z0-9._~\-/]*[A-Za-z0-9._~-]$/;
const SERVICE = /^[a-z][a-z0-9-]{0,62}$/;

/** Builds a table from `{ prefix: service }`, refusing malformed entries (config time). */
export function parseRouteTable(entries: Readonly<Record<string, string>>): RouteTable {
  const table = Object.entries(entries).map(([prefix, service]) => {
    if (!PREFIX.test(prefix)) throw new Error(`route prefix ${JSON.stringify(prefix)} is invalid`);
    if (!SERVICE.test(service))
      throw new Error(`service name ${JSON.stringify(service)} is invalid`);
    return { prefix, service };
  });
  return table.sort((a, b) => b.prefix.length - a.prefix.length);
}

/**
 * Which service owns which public path: the one declared route table. Internal routes
 * (`/internal/...`) are deliberately absent, so no client request can reach them. Billing owns
 * everything under `/v1/billing` (its routes, docs/adr/0011), reporting everything under
 * `/v1/reports` (its routes, docs/adr/0015).
 */
export const DEFAULT_ROUTE_TABLE: RouteTable = parseRouteTable({
  '/v1/signup': 'identity',
  '/v1/auth': 'identity',
  '/v1/me': 'identity',
  '/v1/me/permissions': 'authorization',
  '/v1/members': 'identity',
  '/v1/invitations': 'identity',
  '/v1/api-keys': 'identity',
  '/v1/tenants': 'identity',
  '/v1/operators': 'identity',
  '/v1/platform': 'identity',
  '/.well-known/jwks.json': 'identity',
  '/v1/authz': 'authorization',
  '/v1/roles': 'authorization',
  '/v1/role-assignments': 'authorization',
  '/v1/audit-log': 'authorization',
  '/v1/billing': 'billing',
  '/v1/reports': 'reporting',
});

// Dot segments, encoded separators and backslashes: an upstream (or a proxy in between) that
// normalises them could route the request somewhere the table never allowed, e.g. `/internal`.
const AMBIGUOUS_PATH = /(^|\/)\.{1,2}(\/|$)|%2e|%2f|%5c|\\|\/\//i;

export function isAmbiguousPath(path: string): boolean {
  return AMBIGUOUS_PATH.test(path);
}

/** The owner of `path`, or undefined when no entry covers it. */
export function resolveRoute(table: RouteTable, path: string): ResolvedRoute | undefined {
  for (const entry of table) {
    if (
      path === entry.prefix ||
      (path.startsWith(entry.prefix) && path.charAt(entry.prefix.length) === '/')
    ) {
      return { entry, path };
    }
  }
  return undefined;
}

/** The services the table routes to. */
export function servicesOf(table: RouteTable): string[] {
  return [...new Set(table.map((entry) => entry.service))];
}
