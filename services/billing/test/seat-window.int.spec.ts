import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { migrateServiceDatabase, openServiceDataSource, withTenant } from '@tenantry/db';
import type { TestDatabase } from '@tenantry/testing';
import { createTestDatabase, testStackEnv } from '@tenantry/testing';
import type { SeatEvent } from '../src/domain/seat-count';
import { peakSeats, peakSeatsInWindow, seatsAt } from '../src/domain/seat-count';
import { BILLING_ENTITIES } from '../src/persistence/entities/billing-entities';
import { BILLING_MIGRATIONS } from '../src/persistence/migrations/billing-migrations';
import { SeatRepository } from '../src/persistence/seat-repository';

const BASE = new Date('2026-03-01T00:00:00Z').getTime();
/** Few distinct instants (seconds apart, a few 1 ms apart), so same-time changes are common. */
const instant = (k: number): Date => new Date(BASE + Math.floor(k / 2) * 1000 + (k % 2));
const INSTANTS = 24;

/**
 * Seats from the members at the window start (computed in SQL) plus the changes inside it give
 * exactly what the fold over the tenant's whole history gives, on random histories in a real
 * database: same-instant additions and removals, re-additions, removals of non-members,
 * duplicate changes, and windows that are empty, end before they start or sit on an event.
 */
describe('seats of a window against the fold over the whole history', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  const seats = new SeatRepository();
  let seed = 20260301;
  // xorshift32: deterministic, so a failing history can be replayed from the seed.
  const random = (n: number): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };

  beforeAll(async () => {
    db = await createTestDatabase(testStackEnv().databaseAdminUrl, 'billing_seats');
    const config = {
      appUrl: db.appUrl,
      ownerUrl: db.ownerUrl,
      entities: BILLING_ENTITIES,
      migrations: BILLING_MIGRATIONS,
    };
    await migrateServiceDatabase(config);
    dataSource = await openServiceDataSource(config);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  async function randomHistory(tenantId: string, changes: number, users: number): Promise<void> {
    await withTenant(dataSource, tenantId, async (tx) => {
      for (let i = 0; i < changes; i++) {
        const event: SeatEvent = {
          // The same user ids in every tenant: row-level security keeps the histories apart.
          userId: `user-${random(users)}`,
          kind: random(5) < 3 ? 'added' : 'removed',
          at: instant(random(INSTANTS)),
        };
        await seats.record(tx, randomUUID(), event);
      }
    });
  }

  const point = (): Date => {
    const k = random(INSTANTS + 4) - 2;
    // On an instant, or 1 ms before or after it.
    return new Date(instant(k).getTime() + (random(3) - 1));
  };

  it('gives the same peak and the same seats right now for many windows', async () => {
    let compared = 0;
    let nonZero = 0;
    for (let t = 0; t < 30; t++) {
      const tenantId = randomUUID();
      await randomHistory(tenantId, random(80), 2 + random(12));
      await withTenant(dataSource, tenantId, async (tx) => {
        for (let w = 0; w < 40; w++) {
          const start = point();
          const end = random(6) === 0 ? point() : new Date(start.getTime() + random(12) * 1000);
          const expected = peakSeats(await seats.history(tx, end), start, end);
          const actual = peakSeatsInWindow(await seats.window(tx, start, end), start, end);
          expect({ tenant: t, start, end, seats: actual }).toEqual({
            tenant: t,
            start,
            end,
            seats: expected,
          });
          const now = point();
          const members = peakSeatsInWindow(await seats.window(tx, now, now), now, now);
          expect({ tenant: t, now, seats: members }).toEqual({
            tenant: t,
            now,
            seats: seatsAt(await seats.history(tx, now), now),
          });
          compared += 2;
          if (expected > 0) nonZero += 1;
        }
      });
    }
    expect(compared).toBe(2400);
    // The histories are not trivially empty.
    expect(nonZero).toBeGreaterThan(300);
  });

  it('loads only the members at the start and the changes inside the window', async () => {
    const tenantId = randomUUID();
    await withTenant(dataSource, tenantId, async (tx) => {
      const e = (userId: string, kind: SeatEvent['kind'], k: number): Promise<void> =>
        seats.record(tx, randomUUID(), { userId, kind, at: instant(k) });
      // Before the window: a joins and leaves, b joins, c joins and leaves at one instant, d joins
      // twice, x (never a member) is removed.
      await e('a', 'added', 0);
      await e('a', 'removed', 2);
      await e('b', 'added', 2);
      await e('c', 'added', 4);
      await e('c', 'removed', 4);
      await e('d', 'added', 4);
      await e('d', 'added', 6);
      await e('x', 'removed', 6);
      // Inside [instant(10), instant(14)): c and a come back; after it, e joins.
      await e('c', 'added', 10);
      await e('a', 'added', 12);
      await e('e', 'added', 14);
      const window = await seats.window(tx, instant(10), instant(14));
      expect([...window.membersAtStart].sort()).toEqual(['b', 'd']);
      expect(window.events.map((ev) => `${ev.userId} ${ev.kind}`).sort()).toEqual([
        'a added',
        'c added',
      ]);
      expect(peakSeatsInWindow(window, instant(10), instant(14))).toBe(4);
    });
    // Another tenant with the same user ids sees none of them.
    await withTenant(dataSource, randomUUID(), async (tx) => {
      expect(await seats.window(tx, instant(10), instant(14))).toEqual({
        membersAtStart: [],
        events: [],
      });
    });
  });
});
