import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { BestEffortSpanExporter } from './best-effort-span-exporter';

type Callback = (result: ExportResult) => void;

/** An exporter whose answers the test gives by hand. */
function manualExporter(): SpanExporter & { calls: Callback[] } {
  const calls: Callback[] = [];
  return {
    calls,
    export: (_spans, callback) => {
      calls.push(callback);
    },
    shutdown: () => new Promise<void>(() => {}),
  };
}

const spans = (n: number): ReadableSpan[] => Array.from({ length: n }, () => ({}) as ReadableSpan);
const failed = (message = 'connect ECONNREFUSED'): ExportResult => ({
  code: ExportResultCode.FAILED,
  error: new Error(message),
});

describe('BestEffortSpanExporter', () => {
  let clock: number;
  let warnings: string[];
  let inner: ReturnType<typeof manualExporter>;
  let exporter: BestEffortSpanExporter;

  beforeEach(() => {
    jest.useFakeTimers();
    clock = 0;
    warnings = [];
    inner = manualExporter();
    exporter = new BestEffortSpanExporter(inner, {
      target: 'http://zipkin/api/v2/spans',
      timeoutMillis: 5000,
      maxHangingExports: 2,
      reportIntervalMillis: 60_000,
      warn: (message) => warnings.push(message),
      now: () => clock,
    });
  });

  afterEach(() => jest.useRealTimers());

  const exportNow = (n = 10): ExportResult[] => {
    const results: ExportResult[] = [];
    exporter.export(spans(n), (result) => results.push(result));
    return results;
  };

  it('warns once when the collector starts failing, not once per batch', () => {
    for (let i = 0; i < 100; i++) {
      const results = exportNow();
      inner.calls[i]?.(failed());
      clock += 100;
      expect(results).toEqual([{ code: ExportResultCode.SUCCESS }]);
    }

    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /span export to http:\/\/zipkin\/api\/v2\/spans failed \(.*ECONNREFUSED/,
    );
    expect(exporter.stats()).toEqual({ exportedSpans: 0, droppedSpans: 1000 });
  });

  it('reports a still-failing collector at most once per interval, and its recovery once', () => {
    exportNow();
    inner.calls[0]?.(failed());
    clock += 30_000;
    exportNow();
    inner.calls[1]?.(failed());
    clock += 31_000;
    exportNow();
    inner.calls[2]?.(failed());
    exportNow();
    inner.calls[3]?.({ code: ExportResultCode.SUCCESS });
    exportNow();
    inner.calls[4]?.({ code: ExportResultCode.SUCCESS });

    expect(warnings).toHaveLength(3);
    expect(warnings[1]).toMatch(/still failing .*20 spans dropped in the last 61 s/);
    expect(warnings[2]).toMatch(/works again; 30 spans were dropped/);
    expect(exporter.stats()).toEqual({ exportedSpans: 20, droppedSpans: 30 });
  });

  it('answers within its timeout when the collector never does', () => {
    const results = exportNow();

    jest.advanceTimersByTime(4999);
    expect(results).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(results).toEqual([{ code: ExportResultCode.SUCCESS }]);
    expect(warnings[0]).toMatch(/no answer within 5000 ms/);
  });

  it('drops batches unsent while too many exports hang, and sends again once they end', () => {
    exportNow();
    exportNow();
    jest.advanceTimersByTime(5000);
    const dropped = exportNow();

    expect(dropped).toEqual([{ code: ExportResultCode.SUCCESS }]);
    expect(inner.calls).toHaveLength(2);

    inner.calls[0]?.(failed('socket hang up'));
    exportNow();
    expect(inner.calls).toHaveLength(3);
  });

  it('sends parallel batches (a flush) while none has timed out', () => {
    for (let i = 0; i < 8; i++) exportNow();

    expect(inner.calls).toHaveLength(8);
  });

  it('bounds shutdown when the inner exporter never finishes', async () => {
    const done = exporter.shutdown();
    jest.advanceTimersByTime(5000);

    await expect(done).resolves.toBeUndefined();
  });
});
