import { NO_TENANT, OTHER_TENANTS, TopTenants } from './top-tenants';

describe('TopTenants', () => {
  it('names the first tenants of a fresh process, then only the busiest after a window', () => {
    let now = 0;
    const top = new TopTenants({ top: 2, tracked: 10, windowMs: 1000, now: () => now });
    expect(top.observe('a')).toBe('a');
    expect(top.observe('b')).toBe('b');
    expect(top.observe('c')).toBe(OTHER_TENANTS);
    for (let i = 0; i < 50; i++) top.observe('c');
    for (let i = 0; i < 20; i++) top.observe('b');
    now = 1000;
    // The window rolls: c and b are the busiest, a is now "other".
    expect(top.observe('a')).toBe(OTHER_TENANTS);
    expect(top.observe('c')).toBe('c');
    expect(top.namedTenants().sort()).toEqual(['b', 'c']);
  });

  it('never labels more than top tenants by id, however many there are', () => {
    let now = 0;
    const top = new TopTenants({ top: 3, tracked: 30, windowMs: 100, now: () => now });
    const labels = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      now = i;
      labels.add(top.observe(`t${i % 500}`));
    }
    // Ids seen as labels over the whole run stay bounded by the windows' churn, and each window
    // names at most three.
    expect(top.namedTenants().length).toBeLessThanOrEqual(3);
    expect(labels.has(OTHER_TENANTS)).toBe(true);
  });

  it('finds a heavy hitter among many light tenants (Space-Saving keeps it in the table)', () => {
    let now = 0;
    const top = new TopTenants({ top: 1, tracked: 5, windowMs: 1000, now: () => now });
    for (let i = 0; i < 2000; i++) {
      top.observe(`light-${i}`);
      top.observe('noisy');
    }
    now = 1000;
    expect(top.observe('noisy')).toBe('noisy');
    expect(top.observe('light-1')).toBe(OTHER_TENANTS);
  });

  it('labels requests without a tenant apart', () => {
    expect(new TopTenants().observe(undefined)).toBe(NO_TENANT);
    expect(new TopTenants({ top: 0 }).observe('a')).toBe(OTHER_TENANTS);
  });
});
