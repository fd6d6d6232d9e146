import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import type { ApiCallCompleted } from '@tenantry/contracts';
import { ApiCallCompletedEvent } from '@tenantry/contracts';
import { migrateServiceDatabase, openServiceDataSource } from '@tenantry/db';
import type { EventEnvelope } from '@tenantry/events';
import {
  EventCodec,
  EventTables1764230400000,
  OutboxSetAside1796238000000,
  InboxConsumer,
  createKafkaClient,
} from '@tenantry/events';
import { createTestDatabase, waitFor } from '@tenantry/testing';
import type { TestDatabase } from '@tenantry/testing';
import { GatewayHarness } from './support/gateway-harness';

describe('gateway: one usage event per API call, through the outbox to Kafka', () => {
  const harness = new GatewayHarness();
  const received: EventEnvelope<ApiCallCompleted>[] = [];
  let billingDb: TestDatabase;
  let billing: DataSource;
  let inbox: InboxConsumer;

  beforeAll(async () => {
    await harness.start();
    // A billing-like consumer, reading gateway.usage through the inbox as billing will.
    billingDb = await createTestDatabase(harness.env.databaseAdminUrl, 'usage_consumer');
    const config = {
      appUrl: billingDb.appUrl,
      ownerUrl: billingDb.ownerUrl,
      entities: [],
      migrations: [EventTables1764230400000, OutboxSetAside1796238000000],
    };
    await migrateServiceDatabase(config);
    billing = await openServiceDataSource(config);
    inbox = new InboxConsumer({
      name: `usage-test-${randomUUID()}`,
      kafka: createKafkaClient({ clientId: 'usage-test', brokers: harness.env.kafkaBrokers }),
      dataSource: billing,
      codec: new EventCodec(harness.env.schemaRegistryUrl),
      fromBeginning: true,
    }).on(ApiCallCompletedEvent, async (event) => {
      received.push(event);
    });
    await inbox.start();
  });

  afterAll(async () => {
    await inbox?.stop();
    await billing?.destroy();
    await billingDb?.drop();
    await harness.stop();
  });

  it('reports tenant, actor, route pattern, status and latency of each call', async () => {
    const alice = await harness.identity.newUser();
    const bob = await harness.identity.newUser();
    const { key, apiKeyId } = harness.identity.newApiKey(bob.tenantId);
    const memberId = randomUUID();

    const first = await request(harness.url)
      .get(`/v1/members/${memberId}`)
      .set('authorization', `Bearer ${alice.token}`);
    expect(first.status).toBe(200);
    const second = await request(harness.url).get('/v1/me/fail').set('x-api-key', key);
    expect(second.status).toBe(502);
    // Refused before any tenant is known: nobody to bill.
    expect((await request(harness.url).get('/v1/me')).status).toBe(401);

    const events = await waitFor('both usage events on gateway.usage', () => {
      const mine = received.filter((e) => [alice.tenantId, bob.tenantId].includes(e.tenantid));
      return mine.length >= 2 ? mine : undefined;
    });
    const ofAlice = events.find((e) => e.tenantid === alice.tenantId);
    const ofBob = events.find((e) => e.tenantid === bob.tenantId);
    expect(ofAlice).toMatchObject({
      type: 'gateway.api-call.completed',
      actortype: 'user',
      actorid: alice.userId,
      correlationid: first.headers['x-request-id'],
      data: {
        tenantId: alice.tenantId,
        actorType: 'user',
        actorId: alice.userId,
        method: 'GET',
        route: '/v1/members/:memberId',
        service: 'identity',
        status: 200,
        requestId: first.headers['x-request-id'],
      },
    });
    expect(ofAlice?.data.latencyMs).toBeGreaterThan(0);
    expect(ofBob?.data).toMatchObject({
      tenantId: bob.tenantId,
      actorType: 'api_key',
      actorId: apiKeyId,
      route: '/v1/me/*',
      status: 502,
    });
    expect(events).toHaveLength(2);
  });

  it('writes many calls in batches, every one of them', async () => {
    const users = await Promise.all([harness.identity.newUser(), harness.identity.newUser()]);
    const calls = users.flatMap((user) =>
      Array.from({ length: 15 }, () =>
        request(harness.url).get('/v1/me').set('authorization', `Bearer ${user.token}`),
      ),
    );
    expect((await Promise.all(calls)).every((r) => r.status === 200)).toBe(true);
    const tenants = users.map((u) => u.tenantId);
    await waitFor('30 usage events', () =>
      received.filter((e) => tenants.includes(e.tenantid)).length >= 30 ? true : undefined,
    );
    for (const tenant of tenants) {
      expect(received.filter((e) => e.tenantid === tenant)).toHaveLength(15);
    }
    const [pending] = await harness.service.relay.backlog().then((n) => [n]);
    expect(pending).toBeGreaterThanOrEqual(0);
  });
});
