import {
  batchProcessorConfig,
  DEFAULT_SPAN_EXPORT_LIMITS,
  spanExportLimits,
} from './span-export-limits';

describe('spanExportLimits', () => {
  it('bounds the queue and the export time by default', () => {
    const limits = spanExportLimits({});

    expect(limits).toEqual(DEFAULT_SPAN_EXPORT_LIMITS);
    expect(limits.maxQueueSize).toBeLessThanOrEqual(8192);
    expect(limits.exportTimeoutMillis).toBeLessThanOrEqual(10_000);
    expect(limits.maxHangingExports).toBeGreaterThan(0);
  });

  it('takes valid OTEL_BSP_* values, within ceilings, and ignores invalid ones', () => {
    const limits = spanExportLimits({
      OTEL_BSP_MAX_QUEUE_SIZE: '999999999',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '128',
      OTEL_BSP_SCHEDULE_DELAY: 'soon',
      OTEL_BSP_EXPORT_TIMEOUT: '-1',
    });

    expect(limits.maxQueueSize).toBe(65_536);
    expect(limits.maxExportBatchSize).toBe(128);
    expect(limits.scheduledDelayMillis).toBe(DEFAULT_SPAN_EXPORT_LIMITS.scheduledDelayMillis);
    expect(limits.exportTimeoutMillis).toBe(DEFAULT_SPAN_EXPORT_LIMITS.exportTimeoutMillis);
  });

  it('never lets a batch be larger than the queue', () => {
    expect(spanExportLimits({ OTEL_BSP_MAX_QUEUE_SIZE: '100' }).maxExportBatchSize).toBe(100);
  });

  it('gives the processor an explicit bounded queue and a backstop timeout above the exporter', () => {
    const config = batchProcessorConfig(DEFAULT_SPAN_EXPORT_LIMITS);

    expect(config.maxQueueSize).toBe(DEFAULT_SPAN_EXPORT_LIMITS.maxQueueSize);
    expect(config.maxExportBatchSize).toBe(DEFAULT_SPAN_EXPORT_LIMITS.maxExportBatchSize);
    expect(config.exportTimeoutMillis).toBeGreaterThan(
      DEFAULT_SPAN_EXPORT_LIMITS.exportTimeoutMillis,
    );
  });
});
