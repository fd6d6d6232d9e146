import { match } from 'path-to-regexp';
import { PROBLEM_SCHEMA, decodePathParam } from '@tenantry/http';
import type { RouteTable } from '../proxy/route-table';
import { resolveRoute } from '../proxy/route-table';

/** One operation of a service's API, as its OpenAPI document declares it. */
export interface CatalogOperation {
  readonly service: string;
  readonly method: string;
  /** Express-style pattern, e.g. `/v1/members/:userId`. */
  readonly route: string;
  /** The operation's `x-permission`: `public`, `authenticated` or `<resource>:<action>`. */
  readonly permission: string | undefined;
  readonly matches: (path: string) => boolean;
}

/**
 * The routes the gateway treats as public whatever the documents say: the fixed contract with
 * identity, so sign-up and login keep working while a document cannot be fetched.
 */
export const CONTRACT_PUBLIC_ROUTES: readonly { method: string; route: string }[] = [
  { method: 'post', route: '/v1/signup' },
  { method: 'post', route: '/v1/auth/token' },
  { method: 'post', route: '/v1/auth/refresh' },
  { method: 'post', route: '/v1/auth/logout' },
  { method: 'get', route: '/.well-known/jwks.json' },
  { method: 'post', route: '/v1/invitations/accept' },
  { method: 'post', route: '/v1/operators/token' },
];

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

type OpenApiDocument = {
  readonly paths?: Record<string, Record<string, Record<string, unknown>>>;
  readonly components?: { schemas?: Record<string, unknown> };
  readonly [member: string]: unknown;
};

/** `/v1/things/{id}` -> `/v1/things/:id` */
function expressPath(openApiPath: string): string {
  return openApiPath.replace(/\{([A-Za-z0-9_]+)\}/g, ':$1');
}

/**
 * Throws a 400 problem when the path matches but a parameter is malformed (`%zz`, overlong or
 * surrogate UTF-8) or decodes to text no service can store (`%00`): refused here, before
 * authentication, rather than a URIError ending in a 500.
 */
function matcherOf(route: string): (path: string) => boolean {
  if (!route.includes(':')) return (path) => path === route;
  const m = match(route, { decode: decodePathParam });
  return (path) => m(path) !== false;
}

/**
 * The services' OpenAPI documents, merged: what `/v1/openapi.json` serves, which operations are
 * public (`x-permission: public`) and the route pattern of each request (usage events and metrics
 * carry the pattern, never the raw path). Only paths the route table sends to the same service
 * are taken, so a service cannot publish (or open up) a path it does not own at the gateway.
 */
export class OpenApiCatalog {
  /** Per method, literal routes before patterns (every request looks its operation up here). */
  private operations = new Map<string, CatalogOperation[]>();
  private readonly contractPublic: Map<string, CatalogOperation[]>;
  private readonly documents = new Map<string, OpenApiDocument>();
  private merged: Record<string, unknown>;

  constructor(private readonly routes: RouteTable) {
    this.contractPublic = byMethod(
      CONTRACT_PUBLIC_ROUTES.map(({ method, route }) => ({
        service: resolveRoute(routes, route)?.entry.service ?? 'unknown',
        method,
        route,
        permission: 'public',
        matches: matcherOf(route),
      })),
    );
    this.merged = this.merge();
  }

  /** Replaces one service's document (after a successful fetch). */
  update(service: string, document: unknown): void {
    if (!isDocument(document)) throw new Error(`${service} served something that is not OpenAPI`);
    this.documents.set(service, document);
    this.operations = byMethod(
      sortedLiteralFirst(
        [...this.documents].flatMap(([name, doc]) => this.operationsOf(name, doc)),
      ),
    );
    this.merged = this.merge();
  }

  /** Whether the service's document has been fetched at least once. */
  hasDocument(service: string): boolean {
    return this.documents.has(service);
  }

  /** The declared operation for a request, when a document names it. */
  operationFor(method: string, path: string): CatalogOperation | undefined {
    const lower = method.toLowerCase();
    const effective = lower === 'head' ? 'get' : lower;
    return (
      this.operations.get(effective)?.find((op) => op.matches(path)) ??
      this.contractPublic.get(effective)?.find((op) => op.matches(path))
    );
  }

  /** {@link isPublic} for an operation already looked up with {@link operationFor}. */
  isPublicOperation(method: string, operation: CatalogOperation | undefined): boolean {
    return method.toUpperCase() !== 'OPTIONS' && operation?.permission === 'public';
  }

  /**
   * Public when the contract or the owning service's document says so. Erring towards public is
   * safe: such a request reaches the service without a context token, and the service refuses it
   * (401) unless it serves that path publicly itself.
   */
  isPublic(method: string, path: string): boolean {
    return this.isPublicOperation(method, this.operationFor(method, path));
  }

  document(): Record<string, unknown> {
    return this.merged;
  }

  private operationsOf(service: string, document: OpenApiDocument): CatalogOperation[] {
    const found: CatalogOperation[] = [];
    for (const [path, item] of Object.entries(document.paths ?? {})) {
      const route = expressPath(path);
      if (resolveRoute(this.routes, route)?.entry.service !== service) continue;
      for (const method of METHODS) {
        const operation = item[method];
        if (!operation) continue;
        const permission = operation['x-permission'];
        found.push({
          service,
          method,
          route,
          permission: typeof permission === 'string' ? permission : undefined,
          matches: matcherOf(route),
        });
      }
    }
    return found;
  }

  private merge(): Record<string, unknown> {
    const paths: Record<string, unknown> = {};
    const schemas: Record<string, unknown> = { Problem: PROBLEM_SCHEMA };
    const tags = new Set<string>();
    for (const [service, document] of [...this.documents].sort(([a], [b]) => a.localeCompare(b))) {
      for (const [path, item] of Object.entries(document.paths ?? {})) {
        if (resolveRoute(this.routes, expressPath(path))?.entry.service !== service) continue;
        paths[path] = item;
        for (const method of METHODS) {
          const operationTags = item[method]?.['tags'];
          if (Array.isArray(operationTags)) {
            for (const tag of operationTags) if (typeof tag === 'string') tags.add(tag);
          }
        }
      }
      for (const [name, schema] of Object.entries(document.components?.schemas ?? {})) {
        schemas[name] ??= schema;
      }
    }
    return {
      openapi: '3.1.0',
      info: {
        title: 'Tenantry API',
        version: '1',
        description:
          'Every public route of every service, as served through the gateway. Authenticate with ' +
          '`Authorization: Bearer <access token>` or an API key (`Authorization: Bearer tnt_...` ' +
          'or `x-api-key`). Errors are RFC 9457 problem details.',
      },
      servers: [{ url: '/' }],
      paths,
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
        },
        schemas,
      },
      security: [{ bearer: [] }, { apiKey: [] }],
      ...(tags.size > 0 ? { tags: [...tags].sort().map((name) => ({ name })) } : {}),
    };
  }
}

/** Literal paths before patterns, so `/v1/members/me` wins over `/v1/members/:id`. */
function sortedLiteralFirst(operations: CatalogOperation[]): CatalogOperation[] {
  return operations.sort((a, b) => a.route.split(':').length - b.route.split(':').length);
}

function byMethod(operations: readonly CatalogOperation[]): Map<string, CatalogOperation[]> {
  const map = new Map<string, CatalogOperation[]>();
  for (const operation of operations) {
    const list = map.get(operation.method) ?? [];
    list.push(operation);
    map.set(operation.method, list);
  }
  return map;
}

function isDocument(value: unknown): value is OpenApiDocument {
  if (typeof value !== 'object' || value === null) return false;
  const doc = value as Record<string, unknown>;
  return typeof doc.openapi === 'string' && typeof doc.paths === 'object' && doc.paths !== null;
}
