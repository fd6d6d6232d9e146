import type { Express, Request, RequestHandler, Response } from 'express';
import { Router } from 'express';
import { z } from 'zod';
import type { HttpLogger } from './http-logger';
import {
  IDEMPOTENCY_KEY_MAX_LENGTH,
  IDEMPOTENT_REPLAYED_HEADER,
} from './idempotency/idempotency-key';
import type { IdempotencyStore } from './idempotency/idempotency-store';
import { idempotencyKeyOf, idempotentRequest } from './idempotency/idempotent-request';
import type { IdempotencyMode } from './idempotency/idempotent-request';
import { assertSafeRequestValue } from './request-text';
import { validateBody, validateParams, validateQuery } from './validate-request';
import type { RequestValidator } from './validate-request';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/**
 * What a route needs from the caller: `public` (no authentication: sign-up, login),
 * `authenticated` (any verified actor of the tenant), or a permission `<resource>:<action>`
 * that the gateway checks (coarse); object-level checks stay in the handler, next to the data.
 */
export type RoutePermission = 'public' | 'authenticated' | `${string}:${string}`;

export interface RouteResponse {
  readonly description: string;
  readonly schema?: z.ZodType;
}

export interface RouteDefinition<
  TParams extends z.ZodType = z.ZodType,
  TQuery extends z.ZodType = z.ZodType,
  TBody extends z.ZodType = z.ZodType,
> {
  readonly method: HttpMethod;
  /** Express path, e.g. `/v1/invitations/:invitationId`. */
  readonly path: string;
  readonly summary: string;
  readonly tags?: readonly string[];
  readonly permission: RoutePermission;
  readonly params?: TParams;
  readonly query?: TQuery;
  /** Use `z.strictObject` so unknown fields are refused. */
  readonly body?: TBody;
  readonly responses: Readonly<Record<number, RouteResponse>>;
  /**
   * Honour an `Idempotency-Key` header (docs/adr/0012): a retry with the same key and request
   * gets the first response again instead of a second run. `required` refuses requests without
   * one. Needs `idempotencyStore` in the ApiRoutes options and a non-public permission.
   */
  readonly idempotency?: IdempotencyMode;
}

export interface RouteInput<P, Q, B> {
  readonly params: P;
  readonly query: Q;
  readonly body: B;
  /** The request's `Idempotency-Key` on an idempotent route, to derive event ids from. */
  readonly idempotencyKey?: string;
}

export interface ApiRoutesOptions {
  /** Where routes declared with `idempotency` keep their keys (`PostgresIdempotencyStore`). */
  readonly idempotencyStore?: IdempotencyStore;
  /** Told when an idempotent response could not be recorded. */
  readonly logger?: HttpLogger;
}

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

export type RouteHandler<P, Q, B> = (
  input: RouteInput<P, Q, B>,
  req: Request,
  res: Response,
) => Promise<void>;

export interface RouteSummary {
  readonly method: HttpMethod;
  readonly path: string;
  readonly permission: RoutePermission;
}

interface RegisteredRoute {
  readonly definition: RouteDefinition;
  readonly mount: (router: Router) => void;
}

/** Decoded path parameters with NUL or a lone surrogate are refused even on routes without a schema. */
const requireStorableParams: RequestHandler = (req, _res, next) => {
  assertSafeRequestValue(req.params, 'params');
  next();
};

/** `/v1/things/:id` -> `/v1/things/{id}` */
function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' });
  return rest;
}

/**
 * A service's public routes, declared once: the same zod schemas validate requests and produce
 * the OpenAPI 3.1 document, and each route names the permission it needs, so the gateway's
 * checks, the docs and the handlers cannot drift apart.
 */
export class ApiRoutes {
  private readonly routes: RegisteredRoute[] = [];

  constructor(
    private readonly info: { title: string; version: string },
    private readonly options: ApiRoutesOptions = {},
  ) {}

  add<TParams extends z.ZodType, TQuery extends z.ZodType, TBody extends z.ZodType>(
    definition: RouteDefinition<TParams, TQuery, TBody>,
    handler: RouteHandler<Out<TParams>, Out<TQuery>, Out<TBody>>,
  ): this {
    const validators: { part: 'params' | 'query' | 'body'; v: RequestValidator<unknown> }[] = [];
    if (definition.params)
      validators.push({ part: 'params', v: validateParams(definition.params) });
    if (definition.query) validators.push({ part: 'query', v: validateQuery(definition.query) });
    if (definition.body) validators.push({ part: 'body', v: validateBody(definition.body) });
    const validatedInput = (req: Request): Record<'params' | 'query' | 'body', unknown> => {
      const input = { params: undefined, query: undefined, body: undefined } as Record<
        'params' | 'query' | 'body',
        unknown
      >;
      for (const { part, v } of validators) input[part] = v.value(req);
      return input;
    };
    const idempotency = this.idempotencyMiddleware(definition, validatedInput);
    const mount = (router: Router): void => {
      router[definition.method](
        definition.path,
        requireStorableParams,
        ...validators.map(({ v }) => v),
        ...idempotency,
        async (req: Request, res: Response) => {
          const input = { ...validatedInput(req), idempotencyKey: idempotencyKeyOf(req) };
          await handler(
            input as unknown as RouteInput<Out<TParams>, Out<TQuery>, Out<TBody>>,
            req,
            res,
          );
        },
      );
    };
    this.routes.push({ definition: definition as unknown as RouteDefinition, mount });
    return this;
  }

  private idempotencyMiddleware(
    definition: RouteDefinition,
    input: (req: Request) => { params: unknown; query: unknown; body: unknown },
  ): RequestHandler[] {
    if (definition.idempotency === undefined) return [];
    const where = `${definition.method.toUpperCase()} ${definition.path}`;
    const store = this.options.idempotencyStore;
    if (!store)
      throw new Error(`${where} declares idempotency, but ApiRoutes has no idempotencyStore`);
    // Keys are scoped to tenant and actor; a public route has neither.
    if (definition.permission === 'public')
      throw new Error(`${where} is public and cannot be idempotent`);
    return [
      idempotentRequest({
        store,
        mode: definition.idempotency,
        method: definition.method,
        path: definition.path,
        input,
        logger: this.options.logger,
      }),
    ];
  }

  /** Mounts every route on the app (express 5 forwards rejected promises to the error handler). */
  mount(app: Express): void {
    const router = Router();
    for (const route of this.routes) route.mount(router);
    app.use(router);
  }

  /**
   * Routes that need no signed context, method and path together (for
   * `createHttpApp({ publicRoutes })`): a public GET does not make the same path's DELETE public.
   */
  publicRoutes(): { method: HttpMethod; path: string }[] {
    return this.routes
      .filter((r) => r.definition.permission === 'public')
      .map(({ definition: { method, path } }) => ({ method, path }));
  }

  /** Every route with its permission: the gateway's route-permission table is built from this. */
  summaries(): RouteSummary[] {
    return this.routes.map(({ definition: { method, path, permission } }) => ({
      method,
      path,
      permission,
    }));
  }

  /** The OpenAPI 3.1 document of these routes. */
  openApi(): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const { definition: d } of this.routes) {
      const parameters: unknown[] = [];
      for (const [location, schema] of [
        ['path', d.params],
        ['query', d.query],
      ] as const) {
        if (!schema) continue;
        const json = jsonSchema(schema, 'input') as {
          properties?: Record<string, unknown>;
          required?: string[];
        };
        for (const [name, property] of Object.entries(json.properties ?? {})) {
          parameters.push({
            name,
            in: location,
            required: location === 'path' || (json.required ?? []).includes(name),
            schema: property,
          });
        }
      }
      if (d.idempotency) parameters.push(idempotencyKeyParameter(d.idempotency));
      const responses: Record<string, unknown> = {};
      for (const [status, response] of Object.entries(idempotentResponses(d))) {
        const isProblem = Number(status) >= 400;
        responses[status] = {
          description: response.description,
          ...(response.schema
            ? { content: { 'application/json': { schema: jsonSchema(response.schema, 'output') } } }
            : isProblem
              ? {
                  content: {
                    'application/problem+json': {
                      schema: { $ref: '#/components/schemas/Problem' },
                    },
                  },
                }
              : {}),
          ...(d.idempotency && Number(status) < 300 ? { headers: REPLAYED_HEADER_DOC } : {}),
        };
      }
      const operation = {
        summary: d.summary,
        ...(d.tags ? { tags: [...d.tags] } : {}),
        'x-permission': d.permission,
        ...(d.permission === 'public' ? { security: [] } : {}),
        ...(d.idempotency ? { 'x-idempotency': d.idempotency } : {}),
        ...(parameters.length > 0 ? { parameters } : {}),
        ...(d.body
          ? {
              requestBody: {
                required: true,
                content: { 'application/json': { schema: jsonSchema(d.body, 'input') } },
              },
            }
          : {}),
        responses,
      };
      const path = openApiPath(d.path);
      paths[path] = { ...(paths[path] ?? {}), [d.method]: operation };
    }
    return {
      openapi: '3.1.0',
      info: this.info,
      paths,
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
        },
        schemas: { Problem: PROBLEM_SCHEMA },
      },
      security: [{ bearer: [] }, { apiKey: [] }],
    };
  }
}

function idempotencyKeyParameter(mode: IdempotencyMode): Record<string, unknown> {
  return {
    name: 'Idempotency-Key',
    in: 'header',
    required: mode === 'required',
    description:
      'A unique key per intended operation (a UUID, say), scoped to the tenant and actor. A retry ' +
      'with the same key and request returns the first response (marked `Idempotent-Replayed: ' +
      'true`); the same key with another request is refused with 422; while the first request ' +
      'runs, 409. Keys are remembered for 24 hours; a 5xx, 409 or 429 response is not kept.',
    schema: {
      type: 'string',
      minLength: 1,
      maxLength: IDEMPOTENCY_KEY_MAX_LENGTH,
      pattern: '^[\\x21-\\x7E]+$',
    },
  };
}

const REPLAYED_HEADER_DOC = {
  [IDEMPOTENT_REPLAYED_HEADER]: {
    description: '`true` when this is the stored response of an earlier request with the same key.',
    schema: { type: 'string', enum: ['true'] },
  },
};

/** The route's responses plus the ones idempotency adds (a route's own text is kept first). */
function idempotentResponses(d: RouteDefinition): Readonly<Record<number, RouteResponse>> {
  if (!d.idempotency) return d.responses;
  const added: Record<number, string> = {
    400: 'Invalid Idempotency-Key' + (d.idempotency === 'required' ? ', or none sent' : ''),
    409: 'A request with this Idempotency-Key is still running (see Retry-After)',
    422: 'This Idempotency-Key was used with a different request',
  };
  const responses: Record<number, RouteResponse> = { ...d.responses };
  for (const [status, description] of Object.entries(added)) {
    const own = responses[Number(status)];
    responses[Number(status)] = own
      ? { ...own, description: `${own.description}; or: ${description}` }
      : { description };
  }
  return responses;
}

/** RFC 9457 problem details, as every error response of the platform carries. */
export const PROBLEM_SCHEMA = {
  type: 'object',
  properties: {
    type: { type: 'string', format: 'uri' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    requestId: { type: 'string' },
  },
  required: ['type', 'title', 'status'],
};
