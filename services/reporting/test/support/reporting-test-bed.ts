import { randomBytes, randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import type { Response } from 'supertest';
import { withTenant } from '@tenantry/db';
import type { InboxOutcome } from '@tenantry/events';
import { createLogger } from '@tenantry/observability';
import type { Actor } from '@tenantry/tenancy';
import { signContextToken } from '@tenantry/tenancy';
import type { TestDatabase } from '@tenantry/testing';
import { contextTokenTestKeys, createTestDatabase, testStackEnv } from '@tenantry/testing';
import type { ReportingConfig } from '../../src/config';
import type { ReportingServiceHandle } from '../../src/reporting-service';
import { startReportingService } from '../../src/reporting-service';
import { EventTestProducer } from './event-test-producer';

/** One reporting instance: its own database and consumer groups. */
export interface ReportingInstance {
  readonly service: ReportingServiceHandle;
  readonly db: TestDatabase;
  readonly outcomes: { consumer: string; outcome: InboxOutcome; tenantId?: string }[];
}

/**
 * The reporting service on the real stack: its own database and consumer groups, producers of
 * real identity, authorization, billing and gateway events, and signed requests as any actor.
 * `startInstance()` again gives a second, independent read model of the same topics (a rebuild
 * from the beginning).
 */
export class ReportingTestBed {
  readonly env = testStackEnv();
  /** The gateway's key pair: requests are signed with the private key, the service gets the public one. */
  readonly keys = contextTokenTestKeys();
  readonly producer = new EventTestProducer();
  readonly instances: ReportingInstance[] = [];
  private readonly databases: TestDatabase[] = [];
  readonly exportSecret = randomBytes(32).toString('hex');
  /** Every instance's export files (one directory, as replicas share one). */
  readonly exportDir = join(tmpdir(), `reporting-test-exports-${randomBytes(6).toString('hex')}`);
  /** REPORTING_EXPORT_MAX_ROWS of the instances started from now on. */
  maxExportRows = 1000;
  /** The exports' clock (tests move it to expire links). */
  now = (): Date => new Date();

  get service(): ReportingServiceHandle {
    const first = this.instances[0];
    if (!first) throw new Error('no service instance started');
    return first.service;
  }

  async setUp(): Promise<this> {
    await this.producer.setUp();
    await this.startInstance();
    return this;
  }

  config(db: TestDatabase, overrides: Partial<ReportingConfig> = {}): ReportingConfig {
    return {
      port: 0,
      host: '127.0.0.1',
      databaseUrl: db.appUrl,
      databaseOwnerUrl: db.ownerUrl,
      databasePoolSize: 5,
      kafkaBrokers: this.env.kafkaBrokers,
      schemaRegistryUrl: this.env.schemaRegistryUrl,
      contextKeys: this.keys.contextKeys,
      consumerGroupPrefix: `reporting-test-${randomBytes(4).toString('hex')}`,
      instanceId: `i${this.instances.length}-${randomBytes(3).toString('hex')}`,
      exports: {
        signingSecret: this.exportSecret,
        linkTtlSeconds: 300,
        retentionSeconds: 3600,
        maxRows: this.maxExportRows,
        directory: this.exportDir,
        sweepIntervalMs: 60_000,
      },
      ...overrides,
    };
  }

  /**
   * A new instance with a fresh database and fresh consumer groups (reads every topic from the
   * start), or, given `db` and a group prefix, a restart of an earlier one.
   */
  async startInstance(
    overrides: Partial<ReportingConfig> = {},
    existingDb?: TestDatabase,
  ): Promise<ReportingInstance> {
    const db =
      existingDb ?? (await createTestDatabase(this.env.databaseAdminUrl, 'reporting_test'));
    if (!existingDb) this.databases.push(db);
    const outcomes: ReportingInstance['outcomes'] = [];
    const service = await startReportingService(this.config(db, overrides), {
      logger: createLogger('reporting-test', { level: process.env.LOG_LEVEL ?? 'silent' }),
      relayPollIntervalMs: 50,
      // Refused events (history of other test runs on the shared topics) reach the DLQ fast.
      retry: { attempts: 2, initialDelayMs: 20, maxDelayMs: 50 },
      onOutcome: (consumer, outcome, tenantId) => outcomes.push({ consumer, outcome, tenantId }),
      now: () => this.now(),
      // Tests sweep expired exports themselves (`service.exportSweeper.tick()`).
      sweepExports: false,
      userErasureIntervalMs: 200,
    });
    const instance = { service, db, outcomes };
    this.instances.push(instance);
    return instance;
  }

  async tearDown(): Promise<void> {
    // stop() is harmless on an instance a test already stopped.
    for (const instance of this.instances) await instance.service.stop();
    for (const db of this.databases) await db.drop();
    await rm(this.exportDir, { recursive: true, force: true });
    await this.producer.tearDown();
  }

  async get(
    path: string,
    tenantId: string,
    actor: Actor = { type: 'user', id: `reader-${randomUUID()}` },
    service: ReportingServiceHandle = this.service,
  ): Promise<Response> {
    const token = await signContextToken(
      { tenantId, actor, requestId: `req-${randomUUID()}` },
      this.keys.signingKey,
      { audience: 'reporting' },
    );
    return request(service.app).get(path).set('x-context-token', token);
  }

  /** Rows of a query in the tenant's transaction (RLS applies). */
  async rows<T>(
    tenantId: string,
    sql: string,
    params: unknown[] = [],
    service: ReportingServiceHandle = this.service,
  ): Promise<T[]> {
    return (await withTenant(service.dataSource, tenantId, (tx) =>
      tx.manager.query(sql, params),
    )) as T[];
  }

  /** How many events of the tenant the read models applied, per family. */
  async applied(
    tenantId: string,
    service: ReportingServiceHandle = this.service,
  ): Promise<Record<string, number>> {
    const rows = await this.rows<{ stream: string; n: string }>(
      tenantId,
      `SELECT stream, events_applied::text AS n FROM report_freshness`,
      [],
      service,
    );
    return Object.fromEntries(rows.map((r) => [r.stream, Number(r.n)]));
  }
}
