import { IdentityTestHarness } from './support/identity-test-harness';

describe('identity: bad input gets a 4xx problem, never a 5xx', () => {
  const h = new IdentityTestHarness();

  beforeAll(async () => {
    await h.setUp();
  });
  afterAll(() => h.tearDown());

  function expectProblem(
    response: { status: number; headers: Record<string, string> },
    status: number,
  ) {
    expect(response.status).toBe(status);
    expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
  }

  it('refuses malformed JSON, wrong types, unknown fields and oversize bodies on public routes', async () => {
    for (const path of [
      '/v1/signup',
      '/v1/auth/token',
      '/v1/auth/refresh',
      '/v1/invitations/accept',
    ]) {
      expectProblem(
        await h.http.post(path).set('content-type', 'application/json').send('{"email":'),
        400,
      );
      expectProblem(await h.http.post(path).send({ email: 42, password: ['x'], token: {} }), 400);
      expectProblem(await h.http.post(path).send({ surprise: true }), 400);
      expectProblem(
        await h.http
          .post(path)
          .set('content-type', 'application/json')
          .send(JSON.stringify({ password: 'x'.repeat(64 * 1024) })),
        413,
      );
      expectProblem(await h.http.post(path).set('content-type', 'text/plain').send('hello'), 415);
    }
  });

  it('refuses bad bodies and ids on tenant routes', async () => {
    const tenant = await h.signUp();
    const as = <T extends Parameters<typeof h.asUser>[2]>(test: T) =>
      h.asUser(tenant, tenant.userId, test);
    expectProblem(
      await as(h.http.post('/v1/invitations').send({ email: 'x@example.com', role: 'owner' })),
      400,
    );
    expectProblem(
      await as(h.http.post('/v1/invitations').send({ email: 'not-an-email', role: 'member' })),
      400,
    );
    expectProblem(
      await as(
        h.http.post('/v1/api-keys').send({ name: 'k', role: 'member', expiresAt: 'tomorrow' }),
      ),
      400,
    );
    expectProblem(
      await as(
        h.http
          .post('/v1/api-keys')
          .send({ name: 'k', role: 'member', expiresAt: '2001-01-01T00:00:00Z' }),
      ),
      400,
    );
    expectProblem(await as(h.http.get('/v1/members/not-a-uuid')), 400);
    expectProblem(await as(h.http.delete('/v1/api-keys/1234')), 400);
    expectProblem(await as(h.http.get('/v1/nothing-here')), 404);
  });

  it('refuses garbage tokens without a 5xx', async () => {
    const garbage = ['rt_', 'rt_zz_zz', `rt_${'0'.repeat(32)}_${'a'.repeat(43)}`, 'x'.repeat(500)];
    for (const refreshToken of garbage) {
      expectProblem(await h.http.post('/v1/auth/refresh').send({ refreshToken }), 401);
    }
    for (const token of garbage) {
      const response = await h.http
        .post('/v1/invitations/accept')
        .send({ token, password: 'long enough password', displayName: 'G' });
      expectProblem(response, 404);
    }
    // Non-uuid ids in a (validly signed) context never reach a uuid column.
    const odd = await h.as(
      'not-a-tenant',
      { type: 'user', id: 'not-a-user' },
      h.http.get('/v1/me'),
    );
    expectProblem(odd, 403);
  });

  it('refuses requests without a signed context, whatever headers they carry', async () => {
    const tenant = await h.signUp();
    const response = await h.http
      .get('/v1/members')
      .set('x-tenant-id', tenant.tenantId)
      .set('x-actor-type', 'user')
      .set('x-actor-id', tenant.userId);
    expectProblem(response, 401);
  });
});
