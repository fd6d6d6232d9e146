/** Shared pieces of the benchmarks: the event they move, its tables, cleanup and reporting. */
import { randomBytes } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { enableTenantRowLevelSecurity } from '@tenantry/db';
import type { AvroRecordSchema, EventDefinition, EventsLogger } from '@tenantry/events';
import { defineEvent, subjectOf } from '@tenantry/events';

export interface ItemRecorded {
  itemId: string;
  amountCents: number;
  note: string;
}

const itemRecordedSchema: AvroRecordSchema = {
  type: 'record',
  name: 'ItemRecorded',
  namespace: 'tenantry.bench',
  fields: [
    { name: 'itemId', type: 'string' },
    { name: 'amountCents', type: 'long' },
    { name: 'note', type: 'string', default: '' },
  ],
};

/** A fresh domain per run: its topics and registry subjects never collide with earlier runs. */
export function benchDomain(): string {
  return `bench${randomBytes(4).toString('hex')}`;
}

export function itemRecorded(domain: string, kind: string): EventDefinition<ItemRecorded> {
  return defineEvent<ItemRecorded>({
    type: `${domain}.item.recorded`,
    topic: `${domain}.${kind}`,
    schema: itemRecordedSchema,
  });
}

/** A payload of realistic size: about 100 bytes of Avro. */
export function samplePayload(i: number): ItemRecorded {
  return {
    itemId: `item-${i.toString().padStart(8, '0')}-${randomBytes(8).toString('hex')}`,
    amountCents: 1000 + (i % 9000),
    note: 'benchmark payload: a short free-text note of the size real events carry',
  };
}

export const BENCH_TENANTS = Array.from({ length: 8 }, (_, i) => `bench-tenant-${i}`);

/** The consumer's read model: one small tenant table, as a real handler would write. */
export class CreateBenchLedger1764231000000 implements MigrationInterface {
  name = 'CreateBenchLedger1764231000000';
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE bench_ledger (
        seq bigserial PRIMARY KEY,
        tenant_id text NOT NULL,
        item_id text NOT NULL,
        amount_cents bigint NOT NULL
      )`);
    await enableTenantRowLevelSecurity(queryRunner, 'bench_ledger');
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE bench_ledger`);
  }
}

/** Undo steps, run last-in first-out, also when a benchmark fails half-way. */
export class Cleanup {
  private readonly steps: { what: string; run: () => Promise<unknown> }[] = [];

  add(what: string, run: () => Promise<unknown>): void {
    this.steps.push({ what, run });
  }

  async run(): Promise<void> {
    while (this.steps.length > 0) {
      const step = this.steps.pop()!;
      try {
        await step.run();
      } catch (error) {
        console.error(`[bench] cleanup: ${step.what} failed: ${(error as Error).message}`);
      }
    }
  }
}

export async function deleteTopics(kafka: Kafka, topics: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((topic) => existing.has(topic));
    if (present.length > 0) await admin.deleteTopics({ topics: present, timeout: 30_000 });
  } finally {
    await admin.disconnect();
  }
}

/** Deletes the registry subjects of the bench's event types (soft, then permanent). */
export async function deleteSubjects(
  registryUrl: string,
  definitions: EventDefinition<unknown>[],
): Promise<void> {
  for (const definition of definitions) {
    const url = `${registryUrl}/subjects/${encodeURIComponent(subjectOf(definition))}`;
    const soft = await fetch(url, { method: 'DELETE' });
    if (!soft.ok && soft.status !== 404) throw new Error(`DELETE ${url}: ${soft.status}`);
    await fetch(`${url}?permanent=true`, { method: 'DELETE' });
  }
}

/** Sum of the high watermarks of a topic: how many messages it holds. */
export async function topicMessageCount(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}

export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Runs `work` over `items` with at most `concurrency` in flight. */
export async function pool<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) await work(items[next++] as T);
  });
  await Promise.all(lanes);
}

/** A promise with its resolve/reject outside, for "done when the count reaches N". */
export function deferred<T = void>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
} {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Rejects when `promise` takes longer than `ms`: a benchmark must stop by itself. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function seconds(fromNs: bigint): number {
  return Number(process.hrtime.bigint() - fromNs) / 1e9;
}

export const now = (): bigint => process.hrtime.bigint();

export function rate(count: number, elapsedSeconds: number): number {
  return elapsedSeconds > 0 ? count / elapsedSeconds : 0;
}

export const fmtRate = (value: number): string => Math.round(value).toLocaleString('en-US');
export const fmtRatio = (value: number): string => value.toFixed(2);

export function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
}

export function intListFromEnv(name: string, fallback: number[]): number[] {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const values = raw.split(',').map((v) => Number(v.trim()));
  if (values.some((v) => !Number.isInteger(v) || v <= 0)) {
    throw new Error(`${name} must be a comma-separated list of positive integers`);
  }
  return values;
}

/** A plain text table. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** Warnings and errors of the libs and kafkajs go to stderr: a silent retry would skew a rate. */
export const benchLogger: EventsLogger = {
  error: (message, meta) => console.error(`[bench] ERROR ${message}`, brief(meta)),
  warn: (message, meta) => {
    if (!BENIGN.some((pattern) => pattern.test(message))) {
      console.error(`[bench] WARN ${message}`, brief(meta));
    }
  },
  info: () => undefined,
  debug: () => undefined,
};

// kafkajs' notices about its own defaults, printed once per producer: not a problem of the run.
const BENIGN = [/switched default partitioner/, /Limiting retries for the idempotent producer/];

function brief(meta: Record<string, unknown> | undefined): string {
  if (!meta) return '';
  const err = meta.err instanceof Error ? `${meta.err.name}: ${meta.err.message}` : undefined;
  const rest = Object.fromEntries(
    Object.entries(meta).filter(([k]) => k !== 'err' && k !== 'stack'),
  );
  return [err, JSON.stringify(rest)].filter(Boolean).join(' ');
}

/** Runs a benchmark file's `main` when the file is executed directly, and exits with its outcome. */
export function runWhenMain(module: NodeJS.Module, main: () => Promise<void>): void {
  if (require.main !== module) return;
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}

/** Full sizes (`npm run bench -- --full` or BENCH_FULL=1); quick sizes otherwise. */
export function benchFull(): boolean {
  return process.env.BENCH_FULL === '1' || process.argv.slice(2).includes('--full');
}

/** Sizes: an explicit variable wins, else the full or the quick default. */
export function sizeFromEnv(name: string, quick: number, full: number): number {
  return intFromEnv(name, benchFull() ? full : quick);
}
