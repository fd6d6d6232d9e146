import { ReadAheadWindow } from './read-ahead-window';

interface Event {
  readonly seq: number;
  readonly tenant: string;
  readonly name: string;
}

/** Adds `name`s as events at consecutive offsets; a name starting with "-" is settled on fetch. */
function fill(window: ReadAheadWindow<Event>, names: readonly string[], from = 0): void {
  names.forEach((name, i) => {
    const offset = String(from + i);
    if (name.startsWith('-')) {
      window.add(offset, 10);
      return;
    }
    const tenant = name.slice(0, 1);
    window.add(offset, 10, { event: { seq: window.nextSeq, tenant, name }, tenant });
  });
}

const names = (groups: Event[][]): string[][] => groups.map((g) => g.map((e) => e.name));

function settleAll(window: ReadAheadWindow<Event>, groups: Event[][]): void {
  for (const event of groups.flat()) window.settle(event.seq, event.tenant);
}

describe('ReadAheadWindow', () => {
  it("gives a tenant fetched behind another tenant's burst a group in the next round", () => {
    const window = new ReadAheadWindow<Event>();
    fill(window, ['a0', 'a1', 'a2', 'a3', 'a4']);
    const first = window.round(2);
    expect(names(first)).toEqual([['a0', 'a1']]);
    // Fetched while the first round runs: B is behind the rest of A's burst.
    fill(window, ['a5', 'b0', 'a6', 'b1'], 5);
    settleAll(window, first);
    expect(names(window.round(2))).toEqual([
      ['a2', 'a3'],
      ['b0', 'b1'],
    ]);
  });

  it('moves the settled prefix only over settled events, and commits nothing past a pending one', () => {
    const window = new ReadAheadWindow<Event>();
    fill(window, ['a0', 'b0', '-ignored', 'b1']);
    expect(window.bytes).toBe(40);
    const [groupA, groupB] = window.round(10) as [Event[], Event[]];
    settleAll(window, [groupB]);
    // b0 and b1 are applied, but a0 before them is not.
    expect(window.advance(0).offset).toBeUndefined();
    settleAll(window, [groupA]);
    expect(window.advance(0).offset).toBe('3');
    expect(window.pending).toBe(0);
    expect(window.bytes).toBe(0);
    expect(window.round(10)).toEqual([]);
  });

  it('reports a fetched batch once it and everything before it are settled', () => {
    const window = new ReadAheadWindow<Event>();
    fill(window, ['a0', 'a1']);
    window.markBatch('0', 2, 100);
    fill(window, ['b0'], 2);
    window.markBatch('2', 1, 150);
    const [groupA, groupB] = window.round(10) as [Event[], Event[]];
    settleAll(window, [groupB]);
    expect(window.advance(200).batches).toEqual([]);
    settleAll(window, [groupA]);
    expect(window.advance(400).batches).toEqual([
      { size: 2, firstOffset: '0', lastOffset: '1', durationMs: 300 },
      { size: 1, firstOffset: '2', lastOffset: '2', durationMs: 250 },
    ]);
  });

  it('keeps addressing events by sequence number after dropping what is behind the prefix', () => {
    const window = new ReadAheadWindow<Event>();
    const many = Array.from({ length: 3000 }, (_, i) => `a${i}`);
    fill(window, many);
    for (let done = 0; done < 3000; done += 500) {
      const [group] = window.round(500) as [Event[]];
      expect(group[0]?.name).toBe(`a${done}`);
      settleAll(window, [group]);
      expect(window.advance(0).offset).toBe(String(done + 499));
    }
    fill(window, ['b0'], 3000);
    expect(window.has('2999')).toBe(true);
    expect(window.has('3001')).toBe(false);
    expect(names(window.round(500))).toEqual([['b0']]);
  });
});
