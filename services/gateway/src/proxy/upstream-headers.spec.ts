import { upstreamRequestHeaders } from './upstream-headers';

const context = {
  tenantId: 'tenant-a',
  actor: { type: 'user' as const, id: 'u-1' },
  requestId: 'req-1',
};

describe('upstream request headers', () => {
  const incoming = {
    host: 'api.example',
    accept: 'application/json',
    authorization: 'Bearer abc',
    'x-api-key': 'tnt_x_y',
    'x-tenant-id': 'victim',
    'x-actor-id': 'mallory',
    'x-actor-type': 'operator',
    'x-tenant-plan': 'enterprise',
    'x-context-token': 'forged',
    'x-request-id': 'chosen',
    'x-correlation-id': 'chosen',
    'x-operator-tenant': 'victim',
    traceparent: '00-11111111111111111111111111111111-2222222222222222-01',
    'x-forwarded-for': '10.0.0.1',
    connection: 'keep-alive, x-custom',
    'x-custom': 'hop',
    'x-ordinary': 'kept',
  };

  it('drops every client context header and stamps the verified context', () => {
    const headers = upstreamRequestHeaders({
      incoming,
      requestId: 'req-1',
      stamped: { context, token: 'signed' },
      clientAddress: '127.0.0.1',
      protocol: 'http',
      upstreamHost: 'identity:4001',
      bodyLength: undefined,
    });
    expect(headers).toMatchObject({
      host: 'identity:4001',
      accept: 'application/json',
      'x-ordinary': 'kept',
      'x-tenant-id': 'tenant-a',
      'x-actor-type': 'user',
      'x-actor-id': 'u-1',
      'x-request-id': 'req-1',
      'x-context-token': 'signed',
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-host': 'api.example',
    });
    for (const gone of [
      'authorization',
      'x-api-key',
      'x-tenant-plan',
      'x-correlation-id',
      'x-operator-tenant',
      'connection',
      'x-custom',
    ]) {
      expect(headers).not.toHaveProperty(gone);
    }
    expect(headers.traceparent).not.toBe(incoming.traceparent);
    expect(headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it('keeps credentials but stamps no context on public routes', () => {
    const headers = upstreamRequestHeaders({
      incoming,
      requestId: 'req-2',
      stamped: undefined,
      clientAddress: undefined,
      protocol: 'http',
      upstreamHost: 'identity:4001',
      bodyLength: 12,
    });
    expect(headers.authorization).toBe('Bearer abc');
    expect(headers['content-length']).toBe('12');
    for (const gone of ['x-tenant-id', 'x-actor-id', 'x-actor-type', 'x-context-token']) {
      expect(headers).not.toHaveProperty(gone);
    }
  });
});
