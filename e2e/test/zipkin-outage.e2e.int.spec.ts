// "Stop Zipkin while the platform serves requests: requests keep their latency and nothing else
// stops." A real Zipkin of the test's own, a real service process exporting every span to it,
// then kill -9 of Zipkin between two bounded batches of requests.
import { freePort, ServiceProcess } from '../support/service-process';
import { freeLowPort, PrivateZipkin } from '../support/private-zipkin';

const BATCH = 300;
const CONCURRENCY = 4;

interface Latency {
  readonly p50: number;
  readonly p99: number;
  readonly failures: number;
}

async function measure(url: string, requests: number): Promise<Latency> {
  const times: number[] = [];
  let failures = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next++ < requests) {
      const started = performance.now();
      const response = await fetch(`${url}/work`).catch(() => undefined);
      times.push(performance.now() - started);
      if (response?.status !== 200) failures++;
      await response?.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  times.sort((a, b) => a - b);
  const at = (q: number): number =>
    times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0;
  return { p50: at(0.5), p99: at(0.99), failures };
}

async function memory(url: string): Promise<{ rss: number; heapUsed: number }> {
  return (await (await fetch(`${url}/memory`)).json()) as { rss: number; heapUsed: number };
}

describe('a Zipkin outage under traffic', () => {
  let zipkin: PrivateZipkin;
  let service: ServiceProcess;

  beforeAll(async () => {
    zipkin = new PrivateZipkin('zipkinoutage', await freeLowPort());
    await zipkin.start();
    const port = await freePort();
    service = await new ServiceProcess(
      'outage-probe',
      'e2e/support/traced-http-app.ts',
      {
        PORT: String(port),
        TELEMETRY_EXPORTER: 'zipkin',
        ZIPKIN_URL: `${zipkin.url}/api/v2/spans`,
        NODE_OPTIONS: '--expose-gc',
      },
      `http://127.0.0.1:${port}`,
    ).start();
  }, 180_000);

  afterAll(async () => {
    await service?.stop();
    await zipkin?.stop();
  });

  it('keeps serving at the same latency after kill -9 of Zipkin, and reports it once', async () => {
    await measure(service.url, 200); // warm-up: JIT, keep-alive sockets
    const before = await measure(service.url, BATCH);
    // The spans did reach Zipkin: exporting was real work while it was up.
    const deadline = Date.now() + 15_000;
    while (!(await zipkin.services()).includes('outage-probe') && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await zipkin.services()).toContain('outage-probe');
    const memoryBefore = await memory(service.url);

    process.kill(zipkin.pid(), 'SIGKILL');
    const after = await measure(service.url, BATCH);
    // Past a scheduled export or two (2 s each) with nothing answering.
    await new Promise((resolve) => setTimeout(resolve, 5000));
    const afterPause = await measure(service.url, BATCH);
    const memoryAfter = await memory(service.url);

    process.stdout.write(
      `[zipkin-outage] p50/p99 ms: up ${before.p50.toFixed(1)}/${before.p99.toFixed(1)}, ` +
        `killed ${after.p50.toFixed(1)}/${after.p99.toFixed(1)}, ` +
        `killed+5s ${afterPause.p50.toFixed(1)}/${afterPause.p99.toFixed(1)}; heapUsed MB ` +
        `${(memoryBefore.heapUsed / 2 ** 20).toFixed(1)} -> ${(memoryAfter.heapUsed / 2 ** 20).toFixed(1)}, ` +
        `rss MB ${(memoryAfter.rss / 2 ** 20).toFixed(1)}\n`,
    );
    expect([before.failures, after.failures, afterPause.failures]).toEqual([0, 0, 0]);
    // A noisy shared machine: medians, with a wide margin.
    expect(after.p50).toBeLessThan(3 * before.p50 + 20);
    expect(afterPause.p50).toBeLessThan(3 * before.p50 + 20);
    // Still alive, memory bounded (the span queue is capped; nothing piles up).
    expect((await fetch(`${service.url}/readyz`)).ok).toBe(true);
    expect(memoryAfter.heapUsed).toBeLessThan(memoryBefore.heapUsed + 64 * 2 ** 20);
    // One warning for the outage, not one per batch.
    const logs = service.logs();
    expect(logs.match(/span export to \S+ failed/g) ?? []).toHaveLength(1);
    expect((logs.match(/ECONN[A-Z]+|socket hang up/g) ?? []).length).toBeLessThanOrEqual(2);
  });
});
