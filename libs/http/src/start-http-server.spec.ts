import { Agent, get } from 'node:http';
import type { IncomingMessage } from 'node:http';
import express from 'express';
import { startHttpServer } from './start-http-server';

function fetchText(
  port: number,
  path: string,
  agent: Agent,
): Promise<{ res: IncomingMessage; body: string }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ res, body }));
    }).on('error', reject);
  });
}

describe('startHttpServer', () => {
  it('listens on loopback only unless a host is given', async () => {
    const handle = await startHttpServer(express(), { port: 0 });
    try {
      expect(handle.server.address()).toMatchObject({ address: '127.0.0.1' });
    } finally {
      await handle.close();
    }
  });

  it('finishes in-flight requests, closes keep-alive sockets and refuses new connections', async () => {
    let release: () => void = () => undefined;
    const app = express();
    app.get('/fast', (_req, res) => {
      res.send('fast');
    });
    app.get('/slow', (_req, res) => {
      release = () => res.send('slow');
    });
    const handle = await startHttpServer(app, { port: 0, host: '127.0.0.1' });
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    try {
      // An idle keep-alive socket, then an in-flight request on a second socket.
      expect((await fetchText(handle.port, '/fast', agent)).body).toBe('fast');
      const slow = fetchText(handle.port, '/slow', agent);
      await new Promise((resolve) => setTimeout(resolve, 50));

      const closed = handle.close();
      expect(handle.close()).toBe(closed);
      await expect(fetchText(handle.port, '/fast', new Agent())).rejects.toMatchObject({
        code: 'ECONNREFUSED',
      });

      release();
      const { res, body } = await slow;
      expect(body).toBe('slow');
      expect(res.headers.connection).toBe('close');
      await closed;
      expect(handle.server.listening).toBe(false);
    } finally {
      agent.destroy();
    }
  });

  it('cuts requests still running when the shutdown timeout passes', async () => {
    const app = express();
    app.get('/hang', () => undefined);
    const handle = await startHttpServer(app, {
      port: 0,
      host: '127.0.0.1',
      shutdownTimeoutMs: 50,
    });
    const hanging = fetchText(handle.port, '/hang', new Agent());
    await new Promise((resolve) => setTimeout(resolve, 30));
    await handle.close();
    await expect(hanging).rejects.toMatchObject({ code: 'ECONNRESET' });
  });
});
