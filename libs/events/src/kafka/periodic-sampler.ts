/**
 * Runs `sample` now and every `intervalMs` until stopped; overlapping calls share one run, and
 * the timer never keeps the process alive. What the DLQ-depth and consumer-lag gauges share.
 */
export class PeriodicSampler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly sampleOnce: () => Promise<void>,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    if (this.timer) return;
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a sample in flight. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  sample(): Promise<void> {
    this.running ??= this.sampleOnce().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }
}
