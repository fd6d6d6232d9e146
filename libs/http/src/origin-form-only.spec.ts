import net from 'node:net';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Server } from 'node:http';
import { errorHandler } from './error-handler';
import { originFormOnly } from './origin-form-only';

/** Sends one request line exactly as written (HTTP clients would normalise it). */
function rawRequest(port: number, requestLine: string, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(`${requestLine}\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    });
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

describe('originFormOnly', () => {
  let server: Server;
  let port = 0;
  let host = '';

  beforeAll(async () => {
    const app = express();
    app.use(originFormOnly());
    app.use((req, res) => res.json({ url: req.url, originalUrl: req.originalUrl, path: req.path }));
    app.use(errorHandler({ logger: { error: () => {}, warn: () => {}, info: () => {} } }));
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    port = (server.address() as AddressInfo).port;
    host = `127.0.0.1:${port}`;
  });

  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const statusOf = (answer: string): number => Number(answer.split(' ')[1]);
  const bodyOf = (answer: string): Record<string, unknown> =>
    JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;

  it('passes origin-form targets through untouched', async () => {
    const answer = await rawRequest(port, 'GET /v1/me?x=1 HTTP/1.1', host);
    expect(statusOf(answer)).toBe(200);
    expect(bodyOf(answer)).toEqual({
      url: '/v1/me?x=1',
      originalUrl: '/v1/me?x=1',
      path: '/v1/me',
    });
  });

  it('rewrites an absolute target for its own host to origin form, as sent', async () => {
    const answer = await rawRequest(port, `GET http://${host}/v1/%2e%2e/me?x=1 HTTP/1.1`, host);
    expect(statusOf(answer)).toBe(200);
    // Not normalised by URL parsing: later checks still see the encoded dot segment.
    expect(bodyOf(answer)).toMatchObject({
      url: '/v1/%2e%2e/me?x=1',
      originalUrl: '/v1/%2e%2e/me?x=1',
    });
    const bare = await rawRequest(port, `GET http://${host}?q HTTP/1.1`, host);
    expect(bodyOf(bare)).toMatchObject({ url: '/?q' });
  });

  it.each([
    ['another port', (h: string) => `GET http://127.0.0.1:1${h.split(':')[1]}/v1/me HTTP/1.1`],
    ['another host', () => 'GET http://169.254.169.254/latest/meta-data HTTP/1.1'],
    ['another scheme', (h: string) => `GET ftp://${h}/v1/me HTTP/1.1`],
    ['a protocol-relative path', () => 'GET //evil.example/v1/me HTTP/1.1'],
    [
      'an own-host target with a protocol-relative path',
      (h: string) => `GET http://${h}//evil.example/x HTTP/1.1`,
    ],
    ['the asterisk form', () => 'OPTIONS * HTTP/1.1'],
  ])('refuses %s with a 400 problem', async (_name, line) => {
    const answer = await rawRequest(port, line(host), host);
    expect(statusOf(answer)).toBe(400);
    expect(answer.toLowerCase()).toContain('content-type: application/problem+json');
    expect(bodyOf(answer)).toMatchObject({
      type: 'https://tenantry.dev/problems/request-target-refused',
      status: 400,
    });
  });
});
