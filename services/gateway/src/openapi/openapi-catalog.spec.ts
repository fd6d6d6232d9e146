import { HttpProblem } from '@tenantry/http';
import { DEFAULT_ROUTE_TABLE } from '../proxy/route-table';
import { OpenApiCatalog } from './openapi-catalog';

function catalog(): OpenApiCatalog {
  const c = new OpenApiCatalog(DEFAULT_ROUTE_TABLE);
  c.update('identity', {
    openapi: '3.1.0',
    paths: {
      '/v1/members/me': { get: { 'x-permission': 'authenticated' } },
      '/v1/members/{userId}': { get: { 'x-permission': 'members:read' } },
    },
  });
  c.update('authorization', {
    openapi: '3.1.0',
    paths: { '/v1/roles/{roleId}': { put: { 'x-permission': 'roles:write' } } },
  });
  return c;
}

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('OpenApiCatalog: path parameters', () => {
  it('matches well-formed parameters, literal routes first', () => {
    expect(catalog().operationFor('GET', '/v1/members/me')?.route).toBe('/v1/members/me');
    expect(catalog().operationFor('GET', '/v1/members/caf%C3%A9')?.route).toBe(
      '/v1/members/:userId',
    );
  });

  it.each([
    ['GET', '/v1/members/%zz'],
    ['GET', '/v1/members/%'],
    ['GET', '/v1/members/%e0%80%af'],
    ['GET', '/v1/members/%ed%a0%80'],
    ['GET', '/v1/members/%00'],
    ['PUT', '/v1/roles/a%00b'],
  ])('refuses %s %s with a 400 problem instead of a URIError', (method, path) => {
    const error = thrown(() => catalog().isPublic(method, path));
    expect(error).toBeInstanceOf(HttpProblem);
    expect((error as HttpProblem).status).toBe(400);
  });
});
