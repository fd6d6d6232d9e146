import request from 'supertest';
import { GatewayHarness } from './support/gateway-harness';

describe('gateway: merged OpenAPI document and docs', () => {
  const harness = new GatewayHarness();

  beforeAll(async () => {
    await harness.start();
  });

  afterAll(async () => {
    await harness.stop();
  });

  it('serves every public route of every service, and nothing internal or misrouted', async () => {
    const response = await request(harness.url).get('/v1/openapi.json');
    expect(response.status).toBe(200);
    const doc = response.body;
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/v1/auth/token',
      '/v1/me',
      '/v1/members/{memberId}',
      '/v1/signup',
      '/v1/tenants/{slug}/branding',
    ]);
    expect(doc.paths['/v1/signup'].post).toMatchObject({ 'x-permission': 'public', security: [] });
    expect(doc.paths['/v1/members/{memberId}'].get['x-permission']).toBe('members:read');
    expect(doc.components.schemas.Problem).toBeDefined();
    expect(doc.components.securitySchemes).toHaveProperty('bearer');
  });

  it('serves Swagger UI from local files, pointed at the merged document', async () => {
    const redirect = await request(harness.url).get('/docs');
    expect(redirect.status).toBe(301);
    expect(redirect.headers.location).toBe('/docs/');
    const page = await request(harness.url).get('/docs/');
    expect(page.status).toBe(200);
    expect(page.text).toContain('swagger-ui-bundle.js');
    expect(page.text).not.toMatch(/https?:\/\/(cdn|unpkg)/);
    const initializer = await request(harness.url).get('/docs/swagger-initializer.js');
    expect(initializer.text).toContain('"/v1/openapi.json"');
    expect(initializer.text).not.toContain('petstore');
    const bundle = await request(harness.url).get('/docs/swagger-ui-bundle.js');
    expect(bundle.status).toBe(200);
  });
});
