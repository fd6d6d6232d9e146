import type { BufferConfig } from '@opentelemetry/sdk-trace-base';

/**
 * How much the export path may hold and how long it may wait. A collector that is full or down
 * must cost the service nothing but the spans: the queue is bounded (spans beyond it are dropped,
 * the request never waits), and an export that gets no answer is abandoned quickly.
 */
export interface SpanExportLimits {
  /** Finished spans waiting for export; beyond this, new spans are dropped. */
  readonly maxQueueSize: number;
  readonly maxExportBatchSize: number;
  readonly scheduledDelayMillis: number;
  /** How long one export may take before it counts as failed (the exporters' own timeout). */
  readonly exportTimeoutMillis: number;
  /**
   * Timed-out exports still without an answer beyond which new batches are dropped unsent: a
   * collector that accepts connections but never answers cannot pile up sockets.
   */
  readonly maxHangingExports: number;
}

// ~4k spans of a few KB each: a few MB at most, whatever the collector does.
export const DEFAULT_SPAN_EXPORT_LIMITS: SpanExportLimits = {
  maxQueueSize: 4096,
  maxExportBatchSize: 512,
  scheduledDelayMillis: 2000,
  exportTimeoutMillis: 5000,
  maxHangingExports: 2,
};

// The standard OTEL_BSP_* variables still tune the processor, within these ceilings, so an
// operator cannot turn the bound off by accident.
const ENV_KEYS = {
  maxQueueSize: { env: 'OTEL_BSP_MAX_QUEUE_SIZE', max: 65_536 },
  maxExportBatchSize: { env: 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', max: 8192 },
  scheduledDelayMillis: { env: 'OTEL_BSP_SCHEDULE_DELAY', max: 60_000 },
  exportTimeoutMillis: { env: 'OTEL_BSP_EXPORT_TIMEOUT', max: 30_000 },
} as const;

/** The limits for this process: defaults, overridden by valid OTEL_BSP_* values. */
export function spanExportLimits(env: NodeJS.ProcessEnv = process.env): SpanExportLimits {
  const limits = { ...DEFAULT_SPAN_EXPORT_LIMITS };
  for (const [key, { env: name, max }] of Object.entries(ENV_KEYS) as [
    keyof typeof ENV_KEYS,
    { env: string; max: number },
  ][]) {
    const raw = env[name]?.trim();
    if (!raw) continue;
    const value = Number(raw);
    if (Number.isInteger(value) && value > 0) limits[key] = Math.min(value, max);
  }
  limits.maxExportBatchSize = Math.min(limits.maxExportBatchSize, limits.maxQueueSize);
  return limits;
}

/**
 * The BatchSpanProcessor's configuration. Its own export timeout is a backstop twice the
 * exporter's: the exporter answers first, so the processor never reports a timeout itself.
 */
export function batchProcessorConfig(limits: SpanExportLimits): BufferConfig {
  return {
    maxQueueSize: limits.maxQueueSize,
    maxExportBatchSize: limits.maxExportBatchSize,
    scheduledDelayMillis: limits.scheduledDelayMillis,
    exportTimeoutMillis: limits.exportTimeoutMillis * 2,
  };
}
