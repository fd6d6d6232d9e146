/**
 * The dimensions usage is bucketed by. Both are bounded, so a tenant's hourly rows stay few
 * whatever its traffic: the route group is the first segment of the route pattern after the
 * version (`/v1/billing/invoices/:invoiceId` -> `billing`), never a raw path.
 */
const GROUP_PATTERN = /^[a-z0-9][a-z0-9._-]{0,39}$/;
export const OTHER_ROUTE_GROUP = 'other';

export function routeGroupOf(route: string): string {
  const segments = route.split('/').filter((s) => s.length > 0);
  const first = segments[0] !== undefined && /^v\d+$/.test(segments[0]) ? segments[1] : segments[0];
  const group = first?.toLowerCase();
  return group !== undefined && GROUP_PATTERN.test(group) ? group : OTHER_ROUTE_GROUP;
}

export type StatusClass = '1xx' | '2xx' | '3xx' | '4xx' | '5xx';
export const STATUS_CLASSES: readonly StatusClass[] = ['1xx', '2xx', '3xx', '4xx', '5xx'];

/** `2xx` for 204; a status outside 100-599 counts as a server error (`5xx`). */
export function statusClassOf(status: number): StatusClass {
  const hundreds = Math.floor(status / 100);
  return hundreds >= 1 && hundreds <= 5 ? (`${hundreds}xx` as StatusClass) : '5xx';
}

/** Server errors: the platform's fault (4xx are the client's). */
export function isServerError(status: number): boolean {
  return statusClassOf(status) === '5xx';
}
