import { diag } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

export interface BestEffortSpanExporterOptions {
  /** Where the spans go, for the warnings (a URL). */
  readonly target: string;
  /** An export without an answer after this long is given up (its spans dropped). */
  readonly timeoutMillis: number;
  /**
   * Exports given up on (timed out) but still without an answer, beyond which new batches are
   * dropped unsent: each holds a socket and its payload until the collector answers or closes.
   */
  readonly maxHangingExports: number;
  /** At most one "still failing" warning per interval. Default 60 s. */
  readonly reportIntervalMillis?: number;
  readonly warn?: (message: string) => void;
  readonly now?: () => number;
}

export interface SpanExportStats {
  readonly exportedSpans: number;
  readonly droppedSpans: number;
}

const SUCCESS: ExportResult = { code: ExportResultCode.SUCCESS };

/**
 * Wraps a network exporter so that a collector that is down, slow or full costs only spans:
 * every export answers within `timeoutMillis`, at most `maxHangingExports` timed-out requests
 * stay open at once,
 * and failures are reported once when they start, then at most once per interval, and once when
 * the collector answers again — never once per batch.
 *
 * Failed batches are reported to the processor as exported on purpose: the BatchSpanProcessor
 * logs every failed batch through the global error handler, which under load is a log line
 * every few milliseconds while the collector is down. The spans are dropped either way (the
 * processor does not retry).
 */
export class BestEffortSpanExporter implements SpanExporter {
  private readonly warn: (message: string) => void;
  private readonly now: () => number;
  private readonly reportIntervalMillis: number;
  private hanging = 0;
  private failingSince: number | undefined;
  private lastReportAt = 0;
  private droppedSinceReport = 0;
  private droppedWhileFailing = 0;
  private exportedSpans = 0;
  private droppedSpans = 0;

  constructor(
    private readonly inner: SpanExporter,
    private readonly options: BestEffortSpanExporterOptions,
  ) {
    this.warn = options.warn ?? ((message) => diag.warn(message));
    this.now = options.now ?? Date.now;
    this.reportIntervalMillis = options.reportIntervalMillis ?? 60_000;
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    if (this.hanging >= this.options.maxHangingExports) {
      this.failed(spans.length, `${this.hanging} exports still without an answer`);
      resultCallback(SUCCESS);
      return;
    }
    let settled = false;
    let timedOut = false;
    const settle = (ok: boolean, reason: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (ok) this.succeeded(spans.length);
      else this.failed(spans.length, reason);
      resultCallback(SUCCESS);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      this.hanging++;
      settle(false, `no answer within ${this.options.timeoutMillis} ms`);
    }, this.options.timeoutMillis);
    timer.unref();
    try {
      this.inner.export(spans, (result) => {
        if (timedOut) this.hanging--;
        settle(result.code === ExportResultCode.SUCCESS, describe(result.error));
      });
    } catch (error) {
      settle(false, describe(error));
    }
  }

  stats(): SpanExportStats {
    return { exportedSpans: this.exportedSpans, droppedSpans: this.droppedSpans };
  }

  /** Bounded: a request that never answers must not hold up a flush or the process exit. */
  forceFlush(): Promise<void> {
    return this.bounded(() => this.inner.forceFlush?.() ?? Promise.resolve());
  }

  shutdown(): Promise<void> {
    return this.bounded(() => this.inner.shutdown());
  }

  private bounded(work: () => Promise<void>): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, this.options.timeoutMillis);
      timer.unref();
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      work().then(done, done);
    });
  }

  private succeeded(count: number): void {
    this.exportedSpans += count;
    if (this.failingSince === undefined) return;
    this.warn(
      `span export to ${this.options.target} works again; ${this.droppedWhileFailing} spans ` +
        `were dropped in ${Math.round((this.now() - this.failingSince) / 1000)} s`,
    );
    this.failingSince = undefined;
  }

  private failed(count: number, reason: string): void {
    this.droppedSpans += count;
    const now = this.now();
    if (this.failingSince === undefined) {
      this.failingSince = now;
      this.lastReportAt = now;
      this.droppedWhileFailing = count;
      this.droppedSinceReport = 0;
      this.warn(
        `span export to ${this.options.target} failed (${reason}); dropping spans until it ` +
          `answers (reported at most every ${this.reportIntervalMillis / 1000} s)`,
      );
      return;
    }
    this.droppedWhileFailing += count;
    this.droppedSinceReport += count;
    if (now - this.lastReportAt < this.reportIntervalMillis) return;
    this.warn(
      `span export to ${this.options.target} still failing (${reason}); ` +
        `${this.droppedSinceReport} spans dropped in the last ${Math.round((now - this.lastReportAt) / 1000)} s`,
    );
    this.lastReportAt = now;
    this.droppedSinceReport = 0;
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code ? `${code}: ${error.message}` : error.message;
  }
  return error === undefined ? 'export failed' : String(error);
}
