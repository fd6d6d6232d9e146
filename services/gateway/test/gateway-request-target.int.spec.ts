import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { GatewayHarness } from './support/gateway-harness';

/** One request written byte for byte, as an attacker would (clients normalise request lines). */
function rawExchange(port: number, head: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(`${head}\r\n\r\n`));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('end', () =>
      resolve({
        status: Number(answer.split(' ')[1]),
        body: answer.slice(answer.indexOf('\r\n\r\n') + 4),
      }),
    );
    socket.on('error', reject);
  });
}

describe('gateway: request targets', () => {
  const harness = new GatewayHarness();
  // Stands for any host a client might name: it must never receive a request from the gateway.
  const trap = { server: http.createServer(), hits: [] as string[], port: 0 };

  beforeAll(async () => {
    await harness.start();
    trap.server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      trap.hits.push(`${req.method} ${req.url} ctx=${String(req.headers['x-context-token'])}`);
      res.end('{}');
    });
    trap.server.listen(0, '127.0.0.1');
    await new Promise((resolve) => trap.server.once('listening', resolve));
    trap.port = (trap.server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise((resolve) => trap.server.close(resolve));
    await harness.stop();
  });

  const gatewayPort = (): number => Number(new URL(harness.url).port);

  it('refuses an absolute-form target for another host, and sends nothing there', async () => {
    const user = await harness.identity.newUser();
    const echoedBefore = harness.identity.echoed;
    for (const target of [
      `http://127.0.0.1:${trap.port}/v1/me`,
      `http://localhost:${trap.port}/v1/me`,
      `https://127.0.0.1:${trap.port}/v1/members?x=1`,
      `//127.0.0.1:${trap.port}/v1/me`,
    ]) {
      const response = await rawExchange(
        gatewayPort(),
        [
          `GET ${target} HTTP/1.1`,
          `Host: 127.0.0.1:${gatewayPort()}`,
          `Authorization: Bearer ${user.token}`,
          'Connection: close',
        ].join('\r\n'),
      );
      expect({ target, status: response.status }).toEqual({ target, status: 400 });
      expect(JSON.parse(response.body)).toMatchObject({ status: 400 });
    }
    expect(trap.hits).toEqual([]);
    expect(harness.identity.echoed).toBe(echoedBefore);
  });

  it('routes to the configured upstream whatever Host and forwarding headers say', async () => {
    const user = await harness.identity.newUser();
    // Host, X-Forwarded-Host and the absolute target all agree on the trap: still identity.
    const response = await rawExchange(
      gatewayPort(),
      [
        `GET http://127.0.0.1:${trap.port}/v1/me HTTP/1.1`,
        `Host: 127.0.0.1:${trap.port}`,
        `X-Forwarded-Host: 127.0.0.1:${trap.port}`,
        `Forwarded: host=127.0.0.1:${trap.port}`,
        `Authorization: Bearer ${user.token}`,
        'Connection: close',
      ].join('\r\n'),
    );
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({
      url: '/v1/me',
      context: { tenantId: user.tenantId },
    });
    expect(trap.hits).toEqual([]);
  });
});
