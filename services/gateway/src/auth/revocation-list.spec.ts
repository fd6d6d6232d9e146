import { RevocationList } from './revocation-list';

describe('RevocationList', () => {
  let now = 1_000_000;
  const clock = () => now;

  beforeEach(() => {
    now = 1_000_000;
  });

  it('refuses an id until its instant, then forgets it', () => {
    const list = new RevocationList({ maxEntries: 10, now: clock });
    expect(list.add('s1', now + 1_000)).toBe(true);
    expect(list.has('s1')).toBe(true);
    now += 999;
    expect(list.has('s1')).toBe(true);
    now += 1;
    expect(list.has('s1')).toBe(false);
    expect(list.size).toBe(0);
  });

  it('adds nothing for an instant already past (a replayed, long-expired revocation)', () => {
    const list = new RevocationList({ maxEntries: 10, now: clock });
    expect(list.add('old', now)).toBe(false);
    expect(list.has('old')).toBe(false);
    expect(list.size).toBe(0);
  });

  it('keeps the later instant when an id is revoked twice', () => {
    const list = new RevocationList({ maxEntries: 10, now: clock });
    list.add('s1', now + 5_000);
    list.add('s1', now + 1_000);
    now += 2_000;
    expect(list.has('s1')).toBe(true);
  });

  it('drops expired entries as new ones arrive, without anyone asking for them', () => {
    const list = new RevocationList({ maxEntries: 1_000, now: clock });
    for (let i = 0; i < 100; i += 1) list.add(`s${i}`, now + 1_000);
    now += 1_000;
    list.add('fresh', now + 1_000);
    expect(list.size).toBe(1);
  });

  it('never holds more than its bound: expired entries go first, then the oldest', () => {
    const list = new RevocationList({ maxEntries: 3, now: clock });
    list.add('a', now + 10);
    list.add('b', now + 10_000);
    list.add('c', now + 10_000);
    now += 10;
    list.add('d', now + 10_000); // `a` expired: room without evicting anyone live
    expect(list.evicted).toBe(0);
    expect([list.has('b'), list.has('c'), list.has('d')]).toEqual([true, true, true]);
    list.add('e', now + 10_000);
    expect(list.size).toBe(3);
    expect(list.evicted).toBe(1);
    expect(list.has('b')).toBe(false);
    expect([list.has('c'), list.has('d'), list.has('e')]).toEqual([true, true, true]);
  });

  it('refuses a bound below one', () => {
    expect(() => new RevocationList({ maxEntries: 0 })).toThrow();
  });
});
