import express from 'express';
import request from 'supertest';
import { errorHandler } from './error-handler';

const logger = { error: jest.fn(), warn: jest.fn(), info: jest.fn() };

/** An http-errors style error as body-parser, raw-body, zlib or the router raise it. */
function libraryError(props: Record<string, unknown>, base: Error = new Error('echoes input')) {
  return Object.assign(base, props);
}

function appThrowing(error: unknown): express.Express {
  const app = express();
  app.get('/x', () => {
    throw error;
  });
  app.use(errorHandler({ logger }));
  return app;
}

describe('errorHandler: library errors', () => {
  it.each([
    ['entity.parse.failed', 400, 400, 'malformed-body'],
    ['entity.too.large', 413, 413, 'payload-too-large'],
    ['encoding.unsupported', 415, 415, 'unsupported-media-type'],
    ['charset.unsupported', 415, 415, 'unsupported-media-type'],
    ['request.aborted', 400, 400, 'bad-request'],
    ['request.size.invalid', 400, 400, 'bad-request'],
    ['entity.verify.failed', 403, 400, 'bad-request'],
  ])('maps body-parser %s (%i) to %i %s', async (type, status, expected, slug) => {
    const res = await request(appThrowing(libraryError({ type, status, expose: true }))).get('/x');
    expect(res.status).toBe(expected);
    expect(res.body).toMatchObject({ type: `https://tenantry.dev/problems/${slug}` });
    expect(res.text).not.toContain('echoes input');
  });

  it('maps a decompression failure (zlib error passed on as 400) to 400', async () => {
    const zlib = libraryError({ code: 'Z_DATA_ERROR', errno: -3, status: 400, expose: true });
    const res = await request(appThrowing(zlib)).get('/x');
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/Content-Encoding/);
  });

  it("maps the router's URIError for a malformed path parameter to 400", async () => {
    const res = await request(appThrowing(libraryError({ status: 400 }, new URIError('bad')))).get(
      '/x',
    );
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      type: 'https://tenantry.dev/problems/malformed-path-parameter',
    });
  });

  it('maps a bare URIError (a path-to-regexp matcher on its default decoder) to 400', async () => {
    const res = await request(appThrowing(new URIError('URI malformed'))).get('/x');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      type: 'https://tenantry.dev/problems/malformed-path-parameter',
    });
  });

  it('keeps any other client status a library set, with a fixed text', async () => {
    const res = await request(appThrowing(libraryError({ status: 416, expose: true }))).get('/x');
    expect(res.status).toBe(416);
    expect(res.text).not.toContain('echoes input');
  });

  it('still answers 500 for server-side library errors, logged but not shown', async () => {
    const res = await request(
      appThrowing(libraryError({ type: 'stream.not.readable', status: 500 })),
    ).get('/x');
    expect(res.status).toBe(500);
    expect(res.text).not.toContain('echoes input');
    expect(logger.error).toHaveBeenCalled();
  });
});
