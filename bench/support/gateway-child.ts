/**
 * One process of the gateway benchmarks, started by `gateway-bed.ts` (never by hand):
 *
 *   BENCH_CHILD_MODE=gateway  the real gateway (createGatewayService, config from this process's
 *                             environment) on 127.0.0.1, its outbox relay stopped (the usage
 *                             events stay in the bench database: published, they would land on
 *                             the shared `gateway.usage` topic that billing test beds read);
 *                             BENCH_CHILD_TELEMETRY=on starts the OpenTelemetry SDK first, as
 *                             main.ts does (sampler from OTEL_TRACES_SAMPLER[_ARG], OTLP exporter
 *                             to BENCH_CHILD_OTLP_URL);
 *   BENCH_CHILD_MODE=proxy    the baseline: a minimal reverse proxy (node:http server, a keep-alive
 *                             http.Agent to BENCH_CHILD_UPSTREAM, no auth, no limits).
 *
 * It tells the parent its port over IPC ({ port }), answers { cpu: true } with its CPU time so far
 * ({ cpuMicros }), and exits cleanly on SIGTERM or when the parent
 * goes away, so `node --cpu-prof` writes its profile.
 */
import { createLogger, startTelemetry } from '@tenantry/observability';
import type { TelemetryHandle } from '@tenantry/observability';
import type * as Http from 'node:http';
import type * as PerfHooks from 'node:perf_hooks';
import type { AddressInfo } from 'node:net';
import type * as HttpLib from '@tenantry/http';
// The benchmark runs the gateway itself; nothing else imports it.
// eslint-disable-next-line @nx/enforce-module-boundaries
import type * as Config from '../../services/gateway/src/config';
// eslint-disable-next-line @nx/enforce-module-boundaries
import type * as Service from '../../services/gateway/src/gateway-service';

const LOOPBACK = '127.0.0.1';
const mode = process.env.BENCH_CHILD_MODE;

// Before anything loads http or express: the instrumentations patch modules as they are required.
let telemetry: TelemetryHandle | undefined;
if (mode === 'gateway' && process.env.BENCH_CHILD_TELEMETRY === 'on') {
  telemetry = startTelemetry({
    serviceName: 'gateway',
    httpSpans: 'edge',
    exporter: 'otlp',
    otlpUrl: process.env.BENCH_CHILD_OTLP_URL,
  });
}

/* eslint-disable @typescript-eslint/no-require-imports -- loaded after telemetry on purpose */
require('reflect-metadata');
const http = require('node:http') as typeof Http;
/* eslint-enable @typescript-eslint/no-require-imports */

type Stop = () => Promise<void>;

async function startProxy(): Promise<{ port: number; stop: Stop }> {
  const upstream = new URL(process.env.BENCH_CHILD_UPSTREAM ?? '');
  if (upstream.hostname !== LOOPBACK) throw new Error(`upstream ${upstream.href}: not loopback`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
  const server = http.createServer((req, res) => {
    const out = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    stop: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      agent.destroy();
    },
  };
}

async function startGateway(): Promise<{ port: number; stop: Stop }> {
  /* eslint-disable @typescript-eslint/no-require-imports, @nx/enforce-module-boundaries -- loaded
     after telemetry, as main.ts does */
  const { startHttpServer } = require('@tenantry/http') as typeof HttpLib;
  const { loadGatewayConfig } = require('../../services/gateway/src/config') as typeof Config;
  const { createGatewayService } =
    require('../../services/gateway/src/gateway-service') as typeof Service;
  /* eslint-enable @typescript-eslint/no-require-imports, @nx/enforce-module-boundaries */
  const service = await createGatewayService(loadGatewayConfig(process.env), {
    logger: createLogger('gateway', { level: 'silent' }),
    rateLimitKeyPrefix: process.env.BENCH_CHILD_RATE_PREFIX,
  });
  await service.relay.stop();
  const server = await startHttpServer(service.app, { port: 0, host: LOOPBACK });
  return {
    port: server.port,
    stop: async () => {
      await server.close();
      await service.usage.flush();
      await service.stop();
      await telemetry?.shutdown();
    },
  };
}

/**
 * BENCH_CHILD_DIAGNOSTICS=1: event-loop delay, heap and the longest GC pauses every 2 s on stderr
 * (finding stalls).
 */
function startDiagnostics(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- diagnostics only
  const perfHooks = require('node:perf_hooks') as typeof PerfHooks;
  const { PerformanceObserver, monitorEventLoopDelay } = perfHooks;
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  // Longest pause of each GC kind since the last line (major = mark-compact, minor = scavenge).
  const gcMax = new Map<string, number>();
  const gcKinds: Record<number, string> = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weak' };
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const { detail } = entry as unknown as { detail?: { kind?: number } };
      const kind = gcKinds[detail?.kind ?? 0] ?? 'other';
      gcMax.set(kind, Math.max(gcMax.get(kind) ?? 0, entry.duration));
    }
  }).observe({ entryTypes: ['gc'] });
  setInterval(() => {
    const heap = process.memoryUsage();
    const gc = [...gcMax].map(([kind, ms]) => `${kind} ${ms.toFixed(1)}`).join(', ');
    process.stderr.write(
      `[bench child ${mode}] loop delay p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms, ` +
        `max ${(delay.max / 1e6).toFixed(1)} ms; heap ${(heap.heapUsed / 2 ** 20).toFixed(0)} MiB; ` +
        `longest gc ms: ${gc || 'none'}\n`,
    );
    delay.reset();
    gcMax.clear();
  }, 2000).unref();
}

async function main(): Promise<void> {
  if (process.env.BENCH_CHILD_DIAGNOSTICS === '1') startDiagnostics();
  const started = mode === 'proxy' ? await startProxy() : await startGateway();
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(1), 20_000);
    force.unref();
    started.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.once('disconnect', stop);
  // CPU time used so far (user + system, µs): the parent divides a run's share by its requests.
  process.on('message', (message: { cpu?: boolean }) => {
    if (message.cpu) {
      const { user, system } = process.cpuUsage();
      process.send?.({ cpuMicros: user + system });
    }
  });
  process.send?.({ port: started.port });
}

main().catch((error: unknown) => {
  process.stderr.write(`[bench child ${mode}] ${error instanceof Error ? error.stack : error}\n`);
  process.exit(1);
});
