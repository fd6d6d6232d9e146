import { PassThrough } from 'node:stream';
import type { FetchLike } from './http-json';
import type { OpsContext } from './ops-context';
import { runOps } from './ops-program';

const TENANT = '3f2b6c1e-8a4d-4e0f-9b1a-2c3d4e5f6a7b';
const OPERATOR = '9d8c7b6a-5e4f-4a3b-8c2d-1e0f9a8b7c6d';

interface Call {
  readonly url: string;
  readonly method: string;
  readonly body?: unknown;
  readonly authorization?: string;
}

function json(status: number, body: unknown, type = 'application/json'): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': type } });
}

/** A fake gateway: operator login, then whatever `routes` answers. */
function harness(
  routes: (call: Call) => Response | Promise<Response>,
  options: { confirm?: boolean; env?: NodeJS.ProcessEnv } = {},
) {
  const out: string[] = [];
  const err: string[] = [];
  const calls: Call[] = [];
  const questions: string[] = [];
  const fetchFn: FetchLike = async (url, init) => {
    const headers = (init?.headers ?? {}) as Record<string, string>;
    const call: Call = {
      url,
      method: init?.method ?? 'GET',
      ...(init?.body ? { body: JSON.parse(String(init.body)) } : {}),
      ...(headers.authorization ? { authorization: headers.authorization } : {}),
    };
    calls.push(call);
    if (url.endsWith('/v1/operators/token')) {
      return json(200, {
        tokenType: 'Bearer',
        accessToken: 'op-token',
        expiresIn: 900,
        operatorId: OPERATOR,
      });
    }
    return routes(call);
  };
  const context: OpsContext = {
    io: {
      out: (text) => out.push(text),
      err: (text) => err.push(text),
      progressStream: new PassThrough(),
      confirm: async (question) => {
        questions.push(question);
        return options.confirm ?? false;
      },
    },
    env: {
      TENANTRY_API_URL: 'http://gateway.test',
      TENANTRY_OPERATOR_EMAIL: 'ops@example.test',
      TENANTRY_OPERATOR_PASSWORD: 'secret',
      ZIPKIN_URL: 'http://zipkin.test',
      ...options.env,
    },
    fetch: fetchFn,
  };
  return {
    run: (...argv: string[]) => runOps(argv, context),
    out: () => out.join('\n'),
    err: () => err.join('\n'),
    calls,
    questions,
  };
}

const notCalled = (): Response => {
  throw new Error('no call expected');
};

describe('tenantry (argument parsing and exit codes)', () => {
  it('prints help with the exit codes and exits 0', async () => {
    const h = harness(notCalled);
    expect(await h.run('--help')).toBe(0);
    expect(h.out()).toContain('Usage: tenantry');
    expect(h.out()).toContain('Exit codes: 0 ok, 1');
    expect(await h.run('dlq', 'replay', '--help')).toBe(0);
    expect(h.out()).toContain('--include-replayed');
  });

  it.each([
    [['bogus']],
    [['tenants']],
    [['tenants', 'show']],
    [['tenants', 'show', 'not-a-uuid']],
    [['tenants', 'suspend', TENANT, '--frobnicate']],
    [['dlq', 'list', 'identity.events', '--since', 'yesterday']],
    [['dlq', 'list', 'identity.events', '--since', '2026-02-01', '--until', '2026-01-01']],
    [['--timeout', '-3', 'tenants', 'show', TENANT]],
    [['trace', 'abc', '--lookback', 'forever']],
  ])('exits 2 on a usage error: %j', async (argv) => {
    const h = harness(notCalled);
    expect(await h.run(...argv)).toBe(2);
    expect(h.calls).toEqual([]);
    expect(h.err()).not.toBe('');
  });

  it('exits 2 without an operator credential, before calling anything', async () => {
    const h = harness(notCalled, { env: { TENANTRY_OPERATOR_PASSWORD: '' } });
    expect(await h.run('tenants', 'show', TENANT)).toBe(2);
    expect(h.err()).toContain('TENANTRY_OPERATOR_PASSWORD');
    expect(h.calls).toEqual([]);
  });

  it('exits 2 on a malformed URL in the environment', async () => {
    const h = harness(notCalled, { env: { TENANTRY_API_URL: 'gateway:8080' } });
    expect(await h.run('tenants', 'show', TENANT)).toBe(2);
  });
});

describe('tenantry tenants', () => {
  const details = {
    tenantId: TENANT,
    status: 'active',
    name: 'Acme',
    slug: 'acme',
    plan: 'free',
    createdAt: '2026-01-01T00:00:00.000Z',
    statusChangedAt: '2026-01-01T00:00:00.000Z',
    statusReason: null,
  };

  it('shows a tenant with the operator token, as text or JSON', async () => {
    const h = harness(() => json(200, details));
    expect(await h.run('tenants', 'show', TENANT)).toBe(0);
    expect(h.calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      'POST http://gateway.test/v1/operators/token',
      `GET http://gateway.test/v1/platform/tenants/${TENANT}`,
    ]);
    expect(h.calls[0]?.body).toEqual({ email: 'ops@example.test', password: 'secret' });
    expect(h.calls[1]?.authorization).toBe('Bearer op-token');
    expect(h.out()).toMatch(/^tenant: +3f2b6c1e/m);
    expect(h.out()).toMatch(/^status: +active$/m);

    const j = harness(() => json(200, details));
    expect(await j.run('--json', 'tenants', 'show', TENANT)).toBe(0);
    expect(JSON.parse(j.out())).toEqual(details);
  });

  it('suspends with a reason and resumes', async () => {
    const h = harness((call) =>
      json(200, {
        tenantId: TENANT,
        status: call.url.endsWith('/suspend') ? 'suspended' : 'active',
      }),
    );
    expect(await h.run('tenants', 'suspend', TENANT, '--reason', 'unpaid')).toBe(0);
    expect(await h.run('tenants', 'resume', TENANT)).toBe(0);
    const sent = h.calls.filter((c) => !c.url.endsWith('/token'));
    expect(sent).toEqual([
      expect.objectContaining({
        method: 'POST',
        url: expect.stringMatching(/\/suspend$/),
        body: { reason: 'unpaid' },
      }),
      expect.objectContaining({ method: 'POST', url: expect.stringMatching(/\/resume$/) }),
    ]);
    expect(h.out()).toBe(`tenant ${TENANT}: suspended\ntenant ${TENANT}: active`);
  });

  it('exits 1 with the problem detail on a 4xx', async () => {
    const h = harness(() =>
      json(
        404,
        { type: 'about:blank', title: 'Not Found', status: 404, detail: 'No such tenant.' },
        'application/problem+json',
      ),
    );
    expect(await h.run('tenants', 'show', TENANT)).toBe(1);
    expect(h.err()).toContain(`GET /v1/platform/tenants/${TENANT}: 404 Not Found: No such tenant.`);
    expect(h.out()).toBe('');
  });

  /** Runs one command line against a fetch that answers everything the same way. */
  async function against(fetchFn: FetchLike, ...argv: string[]) {
    const lines: string[] = [];
    const code = await runOps(argv, {
      io: {
        out: (t) => lines.push(t),
        err: (t) => lines.push(t),
        progressStream: new PassThrough(),
        confirm: async () => false,
      },
      env: { TENANTRY_OPERATOR_EMAIL: 'a@b.test', TENANTRY_OPERATOR_PASSWORD: 'x' },
      fetch: fetchFn,
    });
    return { code, output: lines.join('\n') };
  }

  it('exits 1 when the login is refused', async () => {
    const { code, output } = await against(
      async () => json(401, { title: 'Unauthorized', status: 401, detail: 'Invalid credentials.' }),
      'tenants',
      'show',
      TENANT,
    );
    expect(code).toBe(1);
    expect(output).toContain('POST /v1/operators/token: 401 Unauthorized: Invalid credentials.');
  });

  it('exits 3 when the gateway does not answer', async () => {
    const { code, output } = await against(
      async () => {
        throw new TypeError('fetch failed', {
          cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }),
        });
      },
      'tenants',
      'resume',
      TENANT,
    );
    expect(code).toBe(3);
    expect(output).toContain('cannot reach http://127.0.0.1:8080: ECONNREFUSED');
  });

  it('deletes only when confirmed or with --yes', async () => {
    const declined = harness(notCalled, { confirm: false });
    expect(await declined.run('tenants', 'delete', TENANT)).toBe(1);
    expect(declined.questions).toHaveLength(1);
    expect(declined.calls.filter((c) => c.method === 'DELETE')).toEqual([]);

    const confirmed = harness(() => json(200, deleting), { confirm: true });
    expect(await confirmed.run('tenants', 'delete', TENANT)).toBe(0);
    expect(confirmed.calls.filter((c) => c.method === 'DELETE')).toHaveLength(1);

    const yes = harness(() => json(200, deleting));
    expect(await yes.run('tenants', 'delete', TENANT, '--yes')).toBe(0);
    expect(yes.questions).toEqual([]);
    expect(yes.out()).toBe(
      `tenant ${TENANT}: deleting; the purge starts after 2026-01-08T00:00:00.000Z (cancel before then with \`tenantry tenants cancel-deletion ${TENANT}\`)`,
    );
  });

  const deleting = {
    tenantId: TENANT,
    status: 'deleting',
    deletionRequestedAt: '2026-01-01T00:00:00.000Z',
    purgeAfter: '2026-01-08T00:00:00.000Z',
    purgeStartedAt: null,
    deletedAt: null,
    confirmed: [],
    pending: ['authorization', 'billing', 'reporting'],
  };

  it('cancels a deletion in its grace period', async () => {
    const h = harness(() =>
      json(200, { ...deleting, status: 'active', deletionRequestedAt: null, purgeAfter: null }),
    );
    expect(await h.run('tenants', 'cancel-deletion', TENANT)).toBe(0);
    expect(h.calls.at(-1)).toEqual(
      expect.objectContaining({
        method: 'POST',
        url: `http://gateway.test/v1/platform/tenants/${TENANT}/cancel-deletion`,
      }),
    );
    expect(h.out()).toBe(`tenant ${TENANT}: active`);
  });

  it('shows which services have not confirmed the purge of a tenant being deleted', async () => {
    const h = harness(() =>
      json(200, {
        ...details,
        status: 'purging',
        offboarding: {
          ...deleting,
          status: 'purging',
          purgeStartedAt: '2026-01-08T00:01:00.000Z',
          confirmed: [{ service: 'billing', confirmedAt: '2026-01-08T00:01:05.000Z' }],
          pending: ['authorization', 'reporting'],
        },
      }),
    );
    expect(await h.run('tenants', 'show', TENANT)).toBe(0);
    expect(h.out()).toMatch(/^purge after: +2026-01-08T00:00:00.000Z$/m);
    expect(h.out()).toMatch(/^purge confirmed by: +billing \(2026-01-08T00:01:05.000Z\)$/m);
    expect(h.out()).toMatch(/^waiting for: +authorization, reporting$/m);

    const plain = harness(() => json(200, { ...details, offboarding: null }));
    expect(await plain.run('tenants', 'show', TENANT)).toBe(0);
    expect(plain.out()).not.toMatch(/purge|waiting/);
  });
});

describe('tenantry outbox status', () => {
  const metrics = (backlog: number, age: number) =>
    new Response(
      `# HELP outbox_backlog x\n# TYPE outbox_backlog gauge\noutbox_backlog ${backlog}\noutbox_oldest_age_seconds ${age}\n`,
    );

  it('prints backlog and oldest age per service', async () => {
    const h = harness((call) => (call.url.includes(':1') ? metrics(0, 0) : metrics(12, 3.5)), {
      env: { TENANTRY_METRICS_URLS: 'identity=http://a:1/metrics,billing=http://b:2/metrics' },
    });
    expect(await h.run('outbox', 'status')).toBe(0);
    expect(h.out().split('\n')).toEqual([
      expect.stringMatching(/^SERVICE +BACKLOG +OLDEST AGE \(s\) +METRICS$/),
      expect.stringMatching(/^identity +0 +0 +http:\/\/a:1\/metrics$/),
      expect.stringMatching(/^billing +12 +3\.5 +http:\/\/b:2\/metrics$/),
    ]);
    const j = harness(() => metrics(4, 1), {
      env: { TENANTRY_METRICS_URLS: 'identity=http://a:1/metrics' },
    });
    expect(await j.run('outbox', 'status', '--json')).toBe(0);
    expect(JSON.parse(j.out())).toEqual({
      services: [
        { service: 'identity', url: 'http://a:1/metrics', backlog: 4, oldestAgeSeconds: 1 },
      ],
    });
  });

  it('exits 3 when a service does not answer, 1 when it has no outbox metrics', async () => {
    const down = harness(
      (call) => {
        if (call.url.includes(':2'))
          throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
        return metrics(1, 1);
      },
      { env: { TENANTRY_METRICS_URLS: 'identity=http://a:1/metrics,billing=http://b:2/metrics' } },
    );
    expect(await down.run('outbox', 'status')).toBe(3);
    expect(down.out()).toMatch(/^billing +error: ECONNREFUSED/m);
    const bare = harness(() => new Response('up 1\n'), {
      env: { TENANTRY_METRICS_URLS: 'identity=http://a:1/metrics' },
    });
    expect(await bare.run('outbox', 'status')).toBe(1);
  });
});

describe('tenantry trace', () => {
  it('finds the trace by request id and prints its tree and Zipkin link', async () => {
    const spans = [
      {
        traceId: 'abc123',
        id: 'a',
        name: 'get /v1/me',
        kind: 'SERVER',
        timestamp: 1_000_000,
        duration: 50_000,
        localEndpoint: { serviceName: 'gateway' },
        tags: { 'request.id': 'req-1' },
      },
      {
        traceId: 'abc123',
        id: 'b',
        parentId: 'a',
        name: 'get /v1/me',
        kind: 'SERVER',
        timestamp: 1_010_000,
        duration: 30_000,
        localEndpoint: { serviceName: 'identity' },
        tags: { 'tenant.id': 't1' },
      },
    ];
    const h = harness(() => json(200, [spans]));
    expect(await h.run('trace', 'req-1')).toBe(0);
    const url = new URL(h.calls[0]?.url ?? '');
    expect(url.origin + url.pathname).toBe('http://zipkin.test/api/v2/traces');
    expect(url.searchParams.get('annotationQuery')).toBe('request.id=req-1');
    expect(h.out()).toMatch(/^zipkin: +http:\/\/zipkin\.test\/zipkin\/traces\/abc123$/m);
    expect(h.out()).toMatch(/^services: +gateway, identity$/m);
    expect(h.out()).toContain(
      '\n  gateway: get /v1/me [server] 50 ms\n    identity: get /v1/me [server] 30 ms tenant=t1',
    );
  });

  it('exits 1 when Zipkin has no such trace', async () => {
    const h = harness(() => json(200, []));
    expect(await h.run('trace', 'nope')).toBe(1);
    expect(h.err()).toContain('no trace in Zipkin has request.id=nope');
  });
});
