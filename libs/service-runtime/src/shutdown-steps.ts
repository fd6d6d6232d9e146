import type { Logger } from 'winston';

/**
 * What a service must undo, recorded as it is built and undone in reverse: a service that fails
 * half-way through starting releases exactly what it had acquired, and a clean stop closes the
 * HTTP server before the consumers, the consumers before the relay, the relay before the pool.
 */
export class ShutdownSteps {
  private readonly steps: { readonly name: string; readonly run: () => unknown }[] = [];
  private running: Promise<void> | undefined;

  constructor(private readonly logger: Logger) {}

  /** Registers `run` to happen before everything registered earlier. */
  push(name: string, run: () => unknown): void {
    this.steps.push({ name, run });
  }

  /** Runs every step once, newest first; a failing step is logged and the rest still run. */
  runAll(): Promise<void> {
    this.running ??= (async () => {
      while (this.steps.length > 0) {
        const step = this.steps.pop()!;
        try {
          await step.run();
        } catch (error) {
          this.logger.warn('error while stopping', { step: step.name, err: error });
        }
      }
    })();
    return this.running;
  }
}
