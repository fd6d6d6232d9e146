import { createServer } from 'node:http';
import type { RequestListener, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HttpLogger } from './http-logger';

export interface StartHttpServerOptions {
  readonly port: number;
  /** Default '127.0.0.1': listening on every interface is a deliberate choice (containers). */
  readonly host?: string;
  /** How long in-flight requests may take to finish before their sockets are cut. Default 10 s. */
  readonly shutdownTimeoutMs?: number;
  /** Signals that start a graceful shutdown (e.g. ['SIGTERM', 'SIGINT']); none by default. */
  readonly shutdownSignals?: readonly NodeJS.Signals[];
  /** Runs after the server closed on a signal: stop consumers, close pools, then let the process end. */
  readonly onSignalShutdown?: (signal: NodeJS.Signals) => Promise<void> | void;
  readonly logger?: HttpLogger;
}

export interface HttpServerHandle {
  readonly server: Server;
  /** The bound port (useful with port 0 in tests). */
  readonly port: number;
  /**
   * Stops accepting connections, lets in-flight requests finish (up to the timeout), closes idle
   * keep-alive sockets, and resolves once the server is closed. Safe to call more than once.
   */
  close(): Promise<void>;
}

// Kubernetes keeps sending to a pod for a moment after SIGTERM; keep-alive sockets that turn idle
// during the drain are closed on this beat rather than held until the client gives up.
const IDLE_SWEEP_MS = 100;

export async function startHttpServer(
  app: RequestListener,
  options: StartHttpServerOptions,
): Promise<HttpServerHandle> {
  const { host = '127.0.0.1', shutdownTimeoutMs = 10_000, shutdownSignals = [], logger } = options;
  const server = createServer();
  let closing = false;

  // Once draining, every response not yet started tells its client to reconnect elsewhere, so no
  // keep-alive client sends its next request into a socket that is about to close.
  // Registered before the app, so it is in place whatever the app does synchronously.
  const unanswered = new Set<ServerResponse>();
  server.on('request', (_req, res: ServerResponse) => {
    if (closing) {
      res.shouldKeepAlive = false;
      return;
    }
    unanswered.add(res);
    res.once('close', () => unanswered.delete(res));
  });
  server.on('request', app);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= new Promise<void>((resolve, reject) => {
      closing = true;
      for (const res of unanswered) if (!res.headersSent) res.shouldKeepAlive = false;
      const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
      const deadline = setTimeout(() => {
        logger?.warn('shutdown timeout reached; closing remaining connections', {
          shutdownTimeoutMs,
        });
        server.closeAllConnections();
      }, shutdownTimeoutMs);
      server.close((error) => {
        clearInterval(sweep);
        clearTimeout(deadline);
        for (const signal of shutdownSignals) process.off(signal, onSignal);
        if (error) reject(error);
        else resolve();
      });
      server.closeIdleConnections();
    });
    return closed;
  };

  const onSignal = (signal: NodeJS.Signals): void => {
    logger?.info('shutting down http server', { signal });
    close()
      .then(() => options.onSignalShutdown?.(signal))
      .catch((error: unknown) => {
        logger?.error('graceful shutdown failed', {
          signal,
          error: error instanceof Error ? error.message : String(error),
        });
        process.exitCode = 1;
      });
  };
  for (const signal of shutdownSignals) process.once(signal, onSignal);

  logger?.info('http server listening', { host, port });
  return { server, port, close };
}
