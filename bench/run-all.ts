/**
 * Runs the event benchmarks against one stack and prints their ratios.
 *
 *   npm run bench
 *
 * Addresses come from KAFKA_BROKERS, SCHEMA_REGISTRY_URL and DATABASE_ADMIN_URL when all three are
 * set; otherwise the private `bench` profile of the local stack is started (and stopped again at
 * the end, unless BENCH_KEEP_STACK=1). Sizes: BENCH_OUTBOX_ROWS (100000), BENCH_INBOX_EVENTS
 * (20000), BENCH_RELAY_BATCH_SIZES (500), BENCH_PARTITIONS (3), BENCH_BILLING_EVENTS (20000),
 * BENCH_BILLING_FLOOD (5000; 50000 with BENCH_BILLING_FULL=1). BENCH_ONLY=outbox|inbox|billing
 * runs one.
 * Every benchmark creates its own databases, topics and subjects and removes them again.
 */
import 'reflect-metadata';
import os from 'node:os';
import type { BillingBenchResult } from './billing-usage.bench';
import { billingOptionsFromEnv, billingTable, runBillingUsageBench } from './billing-usage.bench';
import type { InboxBenchResult } from './inbox-consumer.bench';
import { inboxOptionsFromEnv, inboxTable, runInboxConsumerBench } from './inbox-consumer.bench';
import type { OutboxBenchResult } from './outbox-relay.bench';
import { outboxOptionsFromEnv, outboxTable, runOutboxRelayBench } from './outbox-relay.bench';
import { fmtRate, fmtRatio, table } from './support/bench-kit';
import { acquireStack } from './support/stack';

/** Targets of the ratios: below them the run still passes, the summary says so. */
const TARGETS = { outbox: 0.5, inbox: 0.3, billingDelayPerBatch: 1 };
const BENCHES = ['outbox', 'inbox', 'billing'];

async function main(): Promise<number> {
  const only = process.env.BENCH_ONLY;
  if (only && !BENCHES.includes(only)) throw new Error(`BENCH_ONLY: ${BENCHES.join(', ')}`);
  const runs = (name: string): boolean => !only || only === name;
  const outboxOptions = outboxOptionsFromEnv();
  const inboxOptions = inboxOptionsFromEnv();
  const billingOptions = billingOptionsFromEnv();
  const stack = await acquireStack();
  let stopping = false;
  const interrupt = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    console.error(`[bench] ${signal}: stopping the stack (databases of a cut run may remain)`);
    stack.release().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);

  let outbox: OutboxBenchResult[] = [];
  let inbox: InboxBenchResult | undefined;
  let billing: BillingBenchResult | undefined;
  const started = Date.now();
  try {
    console.error(
      `[bench] stack: ${stack.origin} (Kafka ${stack.kafkaBrokers.join(',')}); ` +
        `${os.cpus().length} cores, Node ${process.version}`,
    );
    if (runs('outbox')) outbox = await runOutboxRelayBench(stack, outboxOptions);
    if (runs('inbox')) inbox = await runInboxConsumerBench(stack, inboxOptions);
    if (runs('billing')) billing = await runBillingUsageBench(stack, billingOptions);
  } finally {
    await stack.release();
  }

  const out: string[] = [''];
  if (outbox.length > 0) out.push(outboxTable(outbox), '');
  if (inbox) out.push(inboxTable(inbox), '');
  if (billing) out.push(billingTable(billing), '');
  const summary: string[][] = [];
  for (const r of outbox) {
    summary.push([
      `outbox relay / raw producer (batch ${r.batchSize})`,
      `${fmtRate(r.relayRowsPerSecond)} / ${fmtRate(r.baselineMessagesPerSecond)}`,
      fmtRatio(r.ratio),
      `>= ${TARGETS.outbox}`,
      r.ratio >= TARGETS.outbox ? 'met' : 'BELOW',
    ]);
  }
  if (inbox) {
    summary.push([
      'InboxConsumer (onBatch handler) / raw consumer',
      `${fmtRate(inbox.inbox.eventsPerSecond)} / ${fmtRate(inbox.baselineEventsPerSecond)}`,
      fmtRatio(inbox.inbox.ratio),
      `>= ${TARGETS.inbox}`,
      inbox.inbox.ratio >= TARGETS.inbox ? 'met' : 'BELOW',
    ]);
    // The services' handlers are per-event (`on`): shown for comparison, not held to the target.
    summary.push([
      'InboxConsumer (on handler) / raw consumer',
      `${fmtRate(inbox.inboxEach.eventsPerSecond)} / ${fmtRate(inbox.baselineEventsPerSecond)}`,
      fmtRatio(inbox.inboxEach.ratio),
      '',
      '',
    ]);
  }
  if (billing) {
    // Shown for comparison, as the `on` handler above (billing's handler is per-event).
    summary.push([
      'billing usage consumer / raw consumer',
      `${fmtRate(billing.billingEventsPerSecond)} / ${fmtRate(billing.baselineEventsPerSecond)}`,
      fmtRatio(billing.ratio),
      '',
      '',
    ]);
    for (const c of billing.cases) {
      summary.push([
        `billing flood, ${c.name}: B max delay / batch (${c.bDelayMaxMs.toFixed(0)} / ${billing.batch.medianMs} ms)`,
        '',
        fmtRatio(c.ratio),
        `<= ${TARGETS.billingDelayPerBatch}`,
        c.ratio <= TARGETS.billingDelayPerBatch ? 'met' : 'BELOW',
      ]);
    }
  }
  out.push(table(['summary', 'per second', 'ratio', 'target', ''], summary));
  out.push(
    '',
    `${os.cpus().length} cores, ${stack.origin}, ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
  console.log(out.join('\n'));
  // Ratios are reported, not enforced: a benchmark run fails only when something broke.
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
