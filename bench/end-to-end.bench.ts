/**
 * End to end: an HTTP command accepted by the gateway until its effect is committed by a
 * consumer, against raw kafkajs produce -> consume at the same rate, in the same run (aim: p99
 * <= 3x the raw p99).
 *
 *   client --POST--> gateway (auth, limits, context token) --> bench service: withTenant tx
 *   (outbox row) --> relay --> Kafka --> InboxConsumer (inbox row + ledger row, one tx) = effect
 *
 * The bench service is built with createService (@tenantry/service-runtime) like every service:
 * it verifies the gateway's context token, writes through the outbox, consumes through a durable
 * inbox consumer. It runs in this process under the name `billing` (the gateway routes only to its
 * known services, and a context token is for one audience), on a private topic and database.
 * Latency is from just before the POST is sent until `onOutcome('processed')`, which the inbox
 * calls after its transaction committed. Commands are sent at evenly spaced times.
 *
 *   npx tsx bench/end-to-end.bench.ts        (or BENCH_ONLY=e2e npm run bench)
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { Kafka } from 'kafkajs';
import { withTenant } from '@tenantry/db';
import {
  EventTables1764230400000,
  OutboxSetAside1796238000000,
  createKafkaClient,
} from '@tenantry/events';
import { createLogger } from '@tenantry/observability';
import type { RuntimeHandle } from '@tenantry/service-runtime';
import { createService } from '@tenantry/service-runtime';
import { generateContextTokenKeyPair, requireTenantContext } from '@tenantry/tenancy';
import { createTestDatabase } from '@tenantry/testing';
import {
  CreateBenchLedger1764231000000,
  benchDomain,
  benchFull,
  deferred,
  deleteSubjects,
  deleteTopics,
  intFromEnv,
  itemRecorded,
  runWhenMain,
  sizeFromEnv,
  table,
  withTimeout,
} from './support/bench-kit';
import { LOOPBACK, benchTenant, openGatewayBed, startChild } from './support/gateway-bed';
import type { BenchStack } from './support/stack';
import { acquireStack } from './support/stack';

export interface EndToEndOptions {
  /** Commands (and raw messages) per second. */
  readonly rate: number;
  readonly durationS: number;
  readonly timeoutMs: number;
}

export function endToEndOptionsFromEnv(): EndToEndOptions {
  return {
    rate: intFromEnv('BENCH_E2E_RATE', 50),
    durationS: sizeFromEnv('BENCH_E2E_DURATION_S', 10, 30),
    timeoutMs: intFromEnv('BENCH_TIMEOUT_MS', 600_000),
  };
}

export interface Latencies {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export interface EndToEndResult {
  readonly options: EndToEndOptions & { full: boolean };
  /** POST answered by the gateway (202). */
  readonly accepted: Latencies;
  /** POST sent -> ledger row committed by the consumer. */
  readonly effect: Latencies;
  /** Raw kafkajs: send -> eachMessage. */
  readonly raw: Latencies;
  /** effect p99 / raw p99. */
  readonly ratio: number;
}

const ROUTE = '/v1/benche2e/items';

function latencies(values: number[]): Latencies {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number): number =>
    Math.round((sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? 0) * 10) /
    10;
  return { count: sorted.length, p50: at(0.5), p99: at(0.99), max: at(1) };
}

/** Calls `send(i)` at evenly spaced times, `rate` per second, `count` times. */
async function paceCalls(rate: number, count: number, send: (i: number) => void): Promise<void> {
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const wait = start + (i * 1000) / rate - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    send(i);
  }
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

function post(url: string, headers: Record<string, string>, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const req = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        agent,
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function rawBaseline(
  kafka: Kafka,
  topic: string,
  group: string,
  o: EndToEndOptions,
): Promise<Latencies> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
  await admin.disconnect();
  const count = o.rate * o.durationS;
  const seen: number[] = [];
  const all = deferred();
  const consumer = kafka.consumer({ groupId: group, maxWaitTimeInMs: 100 });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    partitionsConsumedConcurrently: 3,
    eachMessage: async ({ message }) => {
      const sentAt = Number(message.headers?.sentAt?.toString());
      seen.push(performance.now() - sentAt);
      if (seen.length >= count) all.resolve();
    },
  });
  await producer.connect();
  try {
    // One message first: the group has joined and fetches before the measured ones are sent.
    await producer.send({
      topic,
      acks: -1,
      messages: [{ key: 'warm', value: 'x', headers: { sentAt: String(performance.now()) } }],
    });
    await withTimeout(
      new Promise<void>((resolve) => {
        const poll = setInterval(() => {
          if (seen.length > 0) {
            clearInterval(poll);
            resolve();
          }
        }, 20);
      }),
      60_000,
      'raw consumer join',
    );
    seen.length = 0;
    await paceCalls(o.rate, count, (i) => {
      void producer.send({
        topic,
        acks: -1,
        messages: [
          { key: `t:${i}`, value: randomUUID(), headers: { sentAt: String(performance.now()) } },
        ],
      });
    });
    await withTimeout(all.promise, o.timeoutMs, 'raw produce -> consume');
    return latencies(seen);
  } finally {
    await producer.disconnect();
    await consumer.disconnect();
  }
}

export async function runEndToEndBench(
  stack: BenchStack,
  options: EndToEndOptions = endToEndOptionsFromEnv(),
): Promise<EndToEndResult> {
  const domain = benchDomain();
  const items = itemRecorded(domain, 'items');
  const bed = await openGatewayBed(stack, 'e2e');
  const { cleanup } = bed;
  try {
    const kafka = createKafkaClient({ clientId: 'bench-e2e', brokers: stack.kafkaBrokers });
    cleanup.add('topics', () => deleteTopics(kafka, [items.topic, `${domain}.raw`]));
    cleanup.add('subjects', () => deleteSubjects(stack.schemaRegistryUrl, [items]));
    const db = await createTestDatabase(stack.databaseAdminUrl, `${domain}_svc`);
    cleanup.add('service database', () => db.drop());
    const keys = generateContextTokenKeyPair();
    const sentAt = new Map<string, number>();
    const effect: number[] = [];
    const count = options.rate * options.durationS;
    let expected = Number.POSITIVE_INFINITY;
    const allApplied = deferred();
    const service: RuntimeHandle = await createService({
      // The gateway's name for the service behind BILLING_URL (the token's audience).
      name: 'billing',
      logger: createLogger('bench-e2e', { level: 'error' }),
      database: {
        appUrl: db.appUrl,
        ownerUrl: db.ownerUrl,
        entities: [],
        migrations: [
          EventTables1764230400000,
          OutboxSetAside1796238000000,
          CreateBenchLedger1764231000000,
        ],
      },
      kafkaBrokers: stack.kafkaBrokers,
      schemaRegistryUrl: stack.schemaRegistryUrl,
      topics: [{ name: items.topic, partitions: 3 }],
      produces: [items],
      http: { contextKeys: [keys.verificationKey], port: 0, host: LOOPBACK },
      assemble({ dataSource, outbox, consumers }) {
        consumers
          .durable(`${domain}.e2e`, {
            onOutcome: (outcome, metadata) => {
              const sent = metadata ? sentAt.get(metadata.subject) : undefined;
              if (outcome !== 'processed' || sent === undefined) return;
              effect.push(performance.now() - sent);
              if (effect.length >= expected) allApplied.resolve();
            },
          })
          .on(items, async (event, tx) => {
            await tx.manager.query(
              'INSERT INTO bench_ledger (tenant_id, item_id, amount_cents) VALUES ($1, $2, $3)',
              [tx.tenantId, event.data.itemId, event.data.amountCents],
            );
          });
        return {
          http: {
            configure(app) {
              app.post(ROUTE, async (req, res) => {
                const { tenantId } = requireTenantContext('a bench command');
                const id = String((req.body as { id?: unknown }).id);
                await withTenant(dataSource, tenantId, (tx) =>
                  outbox.publish(tx, items, {
                    subject: id,
                    data: { itemId: id, amountCents: 100, note: 'e2e' },
                  }),
                );
                res.status(202).json({ id });
              });
            },
          },
          exposes: {},
        };
      },
    });
    cleanup.add('bench service', () => service.stop());
    const gateway = await startChild('gateway', {
      ...bed.gatewayEnv,
      CONTEXT_TOKEN_PRIVATE_KEY: keys.privateKeyPem,
      GATEWAY_ROUTES: JSON.stringify({ '/v1/benche2e': 'billing' }),
      BILLING_URL: `http://${LOOPBACK}:${service.port}`,
      // The route's permission is the bench service's business; the hop itself is measured.
      AUTHZ_ENFORCEMENT: 'off',
    });
    cleanup.add('gateway', () => gateway.stop());
    const auth = await bed.tokenFor(benchTenant('e2e'));
    const url = `${gateway.url}${ROUTE}`;
    console.error(
      `[bench] end to end: ${count} commands at ${options.rate}/s through the gateway, then ` +
        `raw kafkajs at the same rate`,
    );

    // Warm-up: the consumer has joined and the whole path has run once.
    const warmId = randomUUID();
    sentAt.set(warmId, performance.now());
    if ((await post(url, auth, JSON.stringify({ id: warmId }))) !== 202) {
      throw new Error('the gateway did not accept the warm-up command');
    }
    await withTimeout(
      new Promise<void>((resolve) => {
        const poll = setInterval(() => {
          if (effect.length > 0) {
            clearInterval(poll);
            resolve();
          }
        }, 20);
      }),
      120_000,
      'first command applied',
    );
    effect.length = 0;
    expected = count;
    const accepted: number[] = [];
    let refused = 0;
    const answers: Promise<void>[] = [];
    await paceCalls(options.rate, count, () => {
      const id = randomUUID();
      const sent = performance.now();
      sentAt.set(id, sent);
      answers.push(
        post(url, auth, JSON.stringify({ id })).then(
          (status) => {
            if (status === 202) accepted.push(performance.now() - sent);
            else refused += 1;
          },
          () => void (refused += 1),
        ),
      );
    });
    await Promise.all(answers);
    if (refused > 0) throw new Error(`${refused} of ${count} commands were not accepted`);
    await withTimeout(allApplied.promise, options.timeoutMs, 'every command applied');

    const raw = await rawBaseline(kafka, `${domain}.raw`, `${domain}-raw`, options);
    const result = {
      options: { ...options, full: benchFull() },
      accepted: latencies(accepted),
      effect: latencies(effect),
      raw,
    };
    return { ...result, ratio: result.effect.p99 / Math.max(0.1, raw.p99) };
  } finally {
    await cleanup.run();
  }
}

export function endToEndTable(r: EndToEndResult): string {
  const row = (name: string, l: Latencies): string[] => [
    name,
    String(l.count),
    String(l.p50),
    String(l.p99),
    String(l.max),
  ];
  return table(
    [`end to end at ${r.options.rate}/s`, 'count', 'p50 ms', 'p99 ms', 'max ms'],
    [
      row('POST accepted by the gateway (202)', r.accepted),
      row('POST -> effect committed by the consumer', r.effect),
      row('raw kafkajs produce -> consume', r.raw),
    ],
  );
}

async function main(): Promise<void> {
  const stack = await acquireStack();
  try {
    console.log(endToEndTable(await runEndToEndBench(stack)));
  } finally {
    await stack.release();
  }
}

runWhenMain(module, main);
