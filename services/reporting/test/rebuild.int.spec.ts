import { randomBytes, randomUUID } from 'node:crypto';
import { waitFor } from '@tenantry/testing';
import {
  RebuildRefusedError,
  rebuildReadModels,
} from '../src/application/rebuild/rebuild-read-models';
import type { ReportingServiceHandle } from '../src/reporting-service';
import { ReportingTestBed } from './support/reporting-test-bed';
import { shuffled, tenantScenario } from './support/tenant-scenario';

const PATHS = [
  '/v1/reports/usage?from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z',
  '/v1/reports/members?status=all',
  '/v1/reports/members/history?limit=200',
  '/v1/reports/billing',
  '/v1/reports/activity?limit=200',
];

describe('the in-place rebuild command', () => {
  let bed: ReportingTestBed;
  const groupPrefix = `reporting-rebuild-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    bed = new ReportingTestBed();
    await bed.producer.setUp();
    await bed.startInstance({ consumerGroupPrefix: groupPrefix });
  });

  afterAll(async () => {
    await bed?.tearDown();
  });

  const inboxed = async (tenantId: string, service: ReportingServiceHandle) =>
    (
      (await service.dataSource.query(
        `SELECT count(*)::int AS n FROM event_inbox WHERE tenant_id = $1`,
        [tenantId],
      )) as { n: number }[]
    )[0]?.n ?? 0;

  const reports = async (tenantId: string, service: ReportingServiceHandle) => {
    const bodies: unknown[] = [];
    for (const path of PATHS) bodies.push((await bed.get(path, tenantId, undefined, service)).body);
    return bodies;
  };

  it('refuses while reporting runs, then rebuilds to the same reports', async () => {
    const first = bed.instances[0]!;
    const tenantId = randomUUID();
    const scenario = tenantScenario(tenantId, { calls: 20, withCarol: true });
    await bed.producer.publishAll(shuffled(scenario.events, 3));
    // A fresh group reads the shared topics' whole history first.
    await waitFor(
      'the scenario applied',
      async () =>
        (await inboxed(tenantId, first.service)) === scenario.events.length ? true : undefined,
      { timeoutMs: 240_000 },
    );
    const before = await reports(tenantId, first.service);
    const options = {
      databaseOwnerUrl: first.db.ownerUrl,
      kafkaBrokers: bed.env.kafkaBrokers,
      consumerGroupPrefix: groupPrefix,
      // The shared test broker may have trimmed its day-long usage topic already.
      acceptUsageLoss: true,
    };
    await expect(rebuildReadModels(options)).rejects.toThrow(RebuildRefusedError);

    await first.service.stop();
    const result = await rebuildReadModels(options);
    expect(result.groups).toEqual([
      `${groupPrefix}.identity`,
      `${groupPrefix}.authorization`,
      `${groupPrefix}.billing`,
      `${groupPrefix}.usage`,
    ]);
    expect(result.inboxRowsDeleted).toBeGreaterThanOrEqual(scenario.events.length);
    const second = await bed.startInstance({ consumerGroupPrefix: groupPrefix }, first.db);
    // Emptied by the rebuild: nothing of the tenant until the replay reaches it.
    await waitFor(
      'the replay applied',
      async () =>
        (await inboxed(tenantId, second.service)) === scenario.events.length ? true : undefined,
      { timeoutMs: 240_000 },
    );
    expect(await reports(tenantId, second.service)).toEqual(before);
    expect((await bed.get(PATHS[0]!, tenantId, undefined, second.service)).body.totals.calls).toBe(
      20,
    );
    // Two catch-ups over the shared topics' history, and a group rejoin between them.
  }, 600_000);
});
