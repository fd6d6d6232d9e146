import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { Express } from 'express';
import { signContextToken } from '@tenantry/tenancy';
import { contextTokenTestKeys, strangerContextTokenKeys, waitFor } from '@tenantry/testing';
import { OrderTestService } from './support/order-service';
import { createOrderHttpApi } from './support/order-http-api';

const quietLogger = { error: () => undefined, warn: () => undefined, info: () => undefined };

const AUDIENCE = { audience: 'orders-test' };

describe('a service behind the trust boundary', () => {
  const { signingKey: key, contextKeys } = contextTokenTestKeys();
  let service: OrderTestService;
  let app: Express;

  beforeAll(async () => {
    service = await new OrderTestService().setUp();
    app = createOrderHttpApi(service, contextKeys, quietLogger);
  });

  afterAll(async () => {
    await service?.tearDown();
  });

  function contextFor(tenantId: string) {
    return { tenantId, actor: { type: 'user' as const, id: 'carol' }, requestId: randomUUID() };
  }

  it('refuses a request with no signed context, even with tenant headers', async () => {
    const response = await request(app)
      .post('/v1/orders')
      .set('x-tenant-id', 'victim')
      .set('x-actor-type', 'user')
      .set('x-actor-id', 'mallory')
      .send({ totalCents: 100 });
    expect(response.status).toBe(401);
    expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(await service.ledger('victim')).toEqual([]);
  });

  it('refuses a token signed with another key, and a forged tenant header beside a real token', async () => {
    const stranger = strangerContextTokenKeys().signingKey;
    const forged = await signContextToken(contextFor('victim'), stranger, AUDIENCE);
    expect(
      (await request(app).post('/v1/orders').set('x-context-token', forged).send({ totalCents: 1 }))
        .status,
    ).toBe(401);

    const genuine = await signContextToken(contextFor(`tenant-${randomUUID()}`), key, AUDIENCE);
    const response = await request(app)
      .post('/v1/orders')
      .set('x-context-token', genuine)
      .set('x-tenant-id', 'victim')
      .send({ totalCents: 1 });
    expect(response.status).toBe(401);
  });

  it('serves a signed request for its tenant and publishes the event with its actor', async () => {
    const tenant = `tenant-${randomUUID()}`;
    const token = await signContextToken(contextFor(tenant), key, AUDIENCE);
    const response = await request(app)
      .post('/v1/orders')
      .set('x-context-token', token)
      .send({ totalCents: 2500, note: 'via http' });
    expect(response.status).toBe(201);
    const ledger = await waitFor('the order in the consumer’s ledger', async () => {
      const rows = await service.ledger(tenant);
      return rows.length === 1 ? rows : undefined;
    });
    expect(ledger[0]).toMatchObject({ order_id: response.body.orderId, actor_id: 'carol' });
  });

  it('answers bad input with a problem, never a 5xx', async () => {
    const token = await signContextToken(contextFor(`tenant-${randomUUID()}`), key, AUDIENCE);
    const unknownField = await request(app)
      .post('/v1/orders')
      .set('x-context-token', token)
      .send({ totalCents: 5, tenantId: 'victim' });
    expect(unknownField.status).toBe(400);
    const malformed = await request(app)
      .post('/v1/orders')
      .set('x-context-token', token)
      .set('content-type', 'application/json')
      .send('{"totalCents":');
    expect(malformed.status).toBe(400);
    expect(malformed.headers['content-type']).toMatch(/application\/problem\+json/);
  });
});
