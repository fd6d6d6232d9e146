import { tenantRounds } from './tenant-rounds';

const tenantOf = (event: string): string => event.slice(0, 1);

describe('tenantRounds', () => {
  it("lets another tenant's events through after at most one group of a burst", () => {
    const burst = Array.from({ length: 7 }, (_, i) => `a${i}`);
    const groups = tenantRounds([...burst, 'b0', 'b1', 'c0'], tenantOf, 3);
    expect(groups).toEqual([['a0', 'a1', 'a2'], ['b0', 'b1'], ['c0'], ['a3', 'a4', 'a5'], ['a6']]);
  });

  it("keeps each tenant's order across interleaved input and rounds", () => {
    const events = ['a0', 'b0', 'a1', 'b1', 'a2', 'b2', 'a3'];
    const groups = tenantRounds(events, tenantOf, 2);
    expect(groups).toEqual([['a0', 'a1'], ['b0', 'b1'], ['a2', 'a3'], ['b2']]);
    const flat = groups.flat();
    for (const tenant of ['a', 'b']) {
      expect(flat.filter((e) => tenantOf(e) === tenant)).toEqual(
        events.filter((e) => tenantOf(e) === tenant),
      );
    }
  });

  it('makes one group per tenant when every tenant fits, and none for no events', () => {
    expect(tenantRounds(['a0', 'b0', 'a1'], tenantOf, 100)).toEqual([['a0', 'a1'], ['b0']]);
    expect(tenantRounds([], tenantOf, 100)).toEqual([]);
  });

  it('refuses a group size that is not a positive integer', () => {
    expect(() => tenantRounds(['a0'], tenantOf, 0)).toThrow('positive integer');
  });
});
