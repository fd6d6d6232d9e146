import type { TelemetryHandle } from '@tenantry/observability';

interface StoppableService {
  readonly logger: {
    info(message: string, meta?: object): unknown;
    error(message: string, meta?: object): unknown;
  };
  stop(): Promise<void>;
}

export interface RunServiceOptions {
  readonly name: string;
  /** Started by main.ts before anything else was loaded, so the instrumentations took hold. */
  readonly telemetry: TelemetryHandle;
  readonly start: () => Promise<StoppableService>;
}

/**
 * The whole life of a service process: start it, stop it gracefully on SIGTERM or SIGINT
 * (HTTP drains first, see createService), flush the spans, and exit non-zero when the start or
 * the stop fails.
 */
export function runService(options: RunServiceOptions): void {
  const { name, telemetry } = options;
  options
    .start()
    .then((service) => {
      for (const signal of ['SIGTERM', 'SIGINT'] as const) {
        process.once(signal, () => {
          service.logger.info('shutting down', { signal });
          service
            .stop()
            .catch((error: unknown) => {
              service.logger.error('shutdown failed', { err: error });
              process.exitCode = 1;
            })
            .finally(() => telemetry.shutdown());
        });
      }
    })
    .catch(async (error: unknown) => {
      process.stderr.write(
        `${name} failed to start: ${String((error as Error)?.stack ?? error)}\n`,
      );
      await telemetry.shutdown().catch(() => undefined);
      process.exit(1);
    });
}
