import { bucketStart, bucketStarts, reportRange } from './report-range';

const at = (iso: string) => new Date(iso);

describe('report range', () => {
  it('widens to whole buckets', () => {
    const check = reportRange(at('2026-03-01T10:15:00Z'), at('2026-03-01T12:00:01Z'), 'hour');
    expect(check).toEqual({
      ok: true,
      range: {
        from: at('2026-03-01T10:00:00Z'),
        to: at('2026-03-01T13:00:00Z'),
        granularity: 'hour',
      },
    });
    if (!check.ok) throw new Error('unreachable');
    expect(bucketStarts(check.range).map((d) => d.toISOString())).toEqual([
      '2026-03-01T10:00:00.000Z',
      '2026-03-01T11:00:00.000Z',
      '2026-03-01T12:00:00.000Z',
    ]);
  });

  it('refuses an empty or reversed range', () => {
    expect(reportRange(at('2026-03-02T00:00:00Z'), at('2026-03-01T00:00:00Z'), 'day').ok).toBe(
      false,
    );
    expect(reportRange(at('2026-03-01T00:00:00Z'), at('2026-03-01T00:00:00Z'), 'day').ok).toBe(
      false,
    );
  });

  it('refuses more than 31 days of hours or 400 days of days', () => {
    expect(reportRange(at('2026-01-01T00:00:00Z'), at('2026-02-01T00:00:00Z'), 'hour').ok).toBe(
      true,
    );
    expect(reportRange(at('2026-01-01T00:00:00Z'), at('2026-02-01T00:00:01Z'), 'hour').ok).toBe(
      false,
    );
    expect(reportRange(at('2025-01-01T00:00:00Z'), at('2026-02-05T00:00:00Z'), 'day').ok).toBe(
      true,
    );
    expect(reportRange(at('2025-01-01T00:00:00Z'), at('2026-02-05T00:00:01Z'), 'day').ok).toBe(
      false,
    );
  });

  it('finds the bucket of an instant', () => {
    expect(bucketStart(at('2026-03-05T10:59:59.999Z'), 'hour')).toEqual(at('2026-03-05T10:00:00Z'));
    expect(bucketStart(at('2026-03-05T10:59:59.999Z'), 'day')).toEqual(at('2026-03-05T00:00:00Z'));
  });
});
