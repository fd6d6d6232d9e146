import { computeLag } from './consumer-lag';

describe('computeLag', () => {
  it('subtracts committed offsets from high watermarks, per partition, group and in total', () => {
    const ends = new Map([
      [
        'identity.events',
        [
          { partition: 0, high: '10', low: '0' },
          { partition: 1, high: '7', low: '2' },
        ],
      ],
      ['billing.events', [{ partition: 0, high: '5', low: '5' }]],
    ]);
    const { groups, total } = computeLag(
      [
        {
          groupId: 'billing.identity',
          topics: [
            {
              topic: 'identity.events',
              partitions: [
                { partition: 1, offset: '7' },
                { partition: 0, offset: '4' },
              ],
            },
          ],
        },
        {
          groupId: 'authorization.identity',
          // No commit on partition 1 yet (-1): everything retained is behind.
          topics: [
            {
              topic: 'identity.events',
              partitions: [
                { partition: 0, offset: '10' },
                { partition: 1, offset: '-1' },
              ],
            },
          ],
        },
        // A topic deleted since: no ends, nothing counted.
        {
          groupId: 'old',
          topics: [{ topic: 'gone', partitions: [{ partition: 0, offset: '3' }] }],
        },
      ],
      ends,
    );
    expect(groups.map((g) => [g.groupId, g.lag])).toEqual([
      ['authorization.identity', 5],
      ['billing.identity', 6],
      ['old', 0],
    ]);
    expect(groups[1]?.partitions).toEqual([
      {
        groupId: 'billing.identity',
        topic: 'identity.events',
        partition: 0,
        committed: 4,
        end: 10,
        lag: 6,
      },
      {
        groupId: 'billing.identity',
        topic: 'identity.events',
        partition: 1,
        committed: 7,
        end: 7,
        lag: 0,
      },
    ]);
    expect(groups[0]?.partitions[1]).toMatchObject({ committed: null, end: 7, lag: 5 });
    expect(total).toBe(11);
  });
});
