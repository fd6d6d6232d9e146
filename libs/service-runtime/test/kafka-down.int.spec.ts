import { randomBytes } from 'node:crypto';
import type { TestDatabase } from '@tenantry/testing';
import { PrivateKafka, createTestDatabase, testStackEnv, waitFor } from '@tenantry/testing';
import type { RuntimeHandle } from '../src';
import type { NotesParts } from './support/notes-service';
import { catalogue, startNotesService } from './support/notes-service';

async function gauge(service: RuntimeHandle, name: string): Promise<number> {
  const metric = await service.metrics.registry.getSingleMetric(name)?.get();
  return metric?.values[0]?.value ?? Number.NaN;
}

async function readiness(service: RuntimeHandle): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`http://127.0.0.1:${service.port}/readyz`);
  return { status: response.status, body: await response.json() };
}

// Stops the broker, so it runs against a private one, not the suite's shared broker.
describe('a service built with createService while Kafka is stopped', () => {
  const env = testStackEnv();
  const kafka = new PrivateKafka('runtimekafka', 23792);
  let db: TestDatabase;
  let service: RuntimeHandle & NotesParts;
  let optedIn: RuntimeHandle & NotesParts;

  beforeAll(async () => {
    await kafka.start();
    db = await createTestDatabase(env.databaseAdminUrl, 'runtimekafka');
    const events = catalogue();
    service = await startNotesService(db, events, { kafkaBrokers: kafka.brokers });
    optedIn = await startNotesService(db, events, {
      kafkaBrokers: kafka.brokers,
      kafkaReadiness: true,
    });
  });

  afterAll(async () => {
    await kafka.start().catch(() => undefined);
    await Promise.all([service?.stop(), optedIn?.stop()]);
    await db?.drop();
    await kafka.stop();
  });

  it('stays ready and keeps accepting writes (ADR 0014); what was written is delivered once after Kafka is back', async () => {
    const tenantId = `t-${randomBytes(4).toString('hex')}`;
    await service.publish(tenantId, 'before');
    await waitFor('the first note handled', () =>
      service.durableSeen.length + optedIn.durableSeen.length === 1 ? true : undefined,
    );

    await kafka.stop();
    // The default: readiness is about this replica (its database), not the shared broker, so an
    // orchestrator does not pull every replica of every service out of the load balancer at once.
    expect(await readiness(service)).toMatchObject({ status: 200 });
    // Opted in: the broker's outage shows, with the check that failed named.
    const refused = await waitFor('the opted-in replica unready', async () => {
      const answer = await readiness(optedIn);
      return answer.status === 503 ? answer : undefined;
    });
    expect(JSON.stringify(refused.body)).toContain('kafka');

    // Writes are accepted into the outbox; the stuck backlog is visible in the gauges.
    for (const text of ['during-1', 'during-2', 'during-3']) await service.publish(tenantId, text);
    await waitFor(
      'the outbox age to grow',
      async () => ((await gauge(service, 'outbox_oldest_age_seconds')) >= 2 ? true : undefined),
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    expect(await service.relay.backlog()).toBe(3);

    await kafka.start();
    await waitFor(
      'every note handled once by the durable group',
      () => (service.durableSeen.length + optedIn.durableSeen.length >= 4 ? true : undefined),
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    const texts = [...service.durableSeen, ...optedIn.durableSeen].map((event) => event.data.text);
    expect(texts.sort()).toEqual(['before', 'during-1', 'during-2', 'during-3']);
    await waitFor('the opted-in replica ready again', async () =>
      (await readiness(optedIn)).status === 200 ? true : undefined,
    );
    expect(await service.relay.backlog()).toBe(0);
  });
});
