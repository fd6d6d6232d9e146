import type { DeadLetterEntry } from '@tenantry/events';
import { OperationFailedError, PlatformUnreachableError } from './exit-codes';
import type { FetchLike } from './http-json';
import { PlatformClient } from './platform-client';
import { replayRecordBody, replayRecorder, unrecordedReplayMessage } from './replay-audit';

const TENANT = '3f2b6c1e-8a4d-4e0f-9b1a-2c3d4e5f6a7b';
const OPERATOR = '9d8c7b6a-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
const AUDIT = '0e1d2c3b-4a59-4687-9a6b-5c4d3e2f1a0b';

const entry = (id: string, tenantId?: string): DeadLetterEntry => ({
  id: `${id}@0:1`,
  partition: 0,
  offset: '1',
  eventId: id,
  eventType: 'identity.tenant.created',
  ...(tenantId ? { tenantId } : {}),
  reason: 'refused',
  replayed: false,
});

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json' },
  });
}

function clientAnswering(answer: (body: unknown) => Response) {
  const bodies: unknown[] = [];
  const fetchFn: FetchLike = async (url, init) => {
    if (url.endsWith('/v1/operators/token')) {
      return json(200, { accessToken: 'op-token', operatorId: OPERATOR });
    }
    expect([url, init?.method, (init?.headers as Record<string, string>).authorization]).toEqual([
      'http://gateway.test/v1/platform/dlq-replays',
      'POST',
      'Bearer op-token',
    ]);
    const body: unknown = JSON.parse(String(init?.body));
    bodies.push(body);
    return answer(body);
  };
  const client = new PlatformClient({
    apiUrl: 'http://gateway.test',
    email: 'ops@example.test',
    password: 'secret',
    timeoutMs: 1000,
    fetch: fetchFn,
  });
  return { client, bodies };
}

describe('recording a DLQ replay with identity before it runs', () => {
  it('sends the topic, the filter as given (times as ISO) and the entries', () => {
    const since = new Date('2026-01-01T00:00:00.000Z');
    expect(
      replayRecordBody(
        'identity.events',
        { tenantIds: [TENANT], eventTypes: ['identity.tenant.created'], since },
        [entry('e1', TENANT), entry('e2')],
      ),
    ).toEqual({
      topic: 'identity.events',
      filter: {
        tenantIds: [TENANT],
        eventTypes: ['identity.tenant.created'],
        since: '2026-01-01T00:00:00.000Z',
      },
      entries: [
        {
          entryId: 'e1@0:1',
          eventId: 'e1',
          eventType: 'identity.tenant.created',
          tenantId: TENANT,
        },
        { entryId: 'e2@0:1', eventId: 'e2', eventType: 'identity.tenant.created' },
      ],
    });
  });

  it("gives the replayer identity's audit id and the operator as actor, and keeps what it recorded", async () => {
    const { client, bodies } = clientAnswering(() =>
      json(201, {
        auditId: AUDIT,
        operatorId: OPERATOR,
        recordedAt: '2026-01-01T00:00:00.000Z',
        count: 1,
        tenants: [{ tenantId: TENANT, count: 1 }],
      }),
    );
    const recorder = replayRecorder(client, 'identity.events', {});
    await expect(recorder.record([entry('e1', TENANT)])).resolves.toEqual({
      auditId: AUDIT,
      actor: `operator:${OPERATOR}`,
    });
    expect(bodies).toHaveLength(1);
    expect(recorder.failed).toBe(false);
    expect(recorder.recorded.map((r) => r.auditId)).toEqual([AUDIT]);
  });

  it('fails the chunk (so it is not replayed) when identity refuses or does not answer', async () => {
    const refusing = replayRecorder(
      clientAnswering(() =>
        json(422, { status: 422, title: 'Unprocessable content', detail: '1 entry has no tenant' }),
      ).client,
      'identity.events',
      {},
    );
    const refused = await refusing.record([entry('e1')]).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OperationFailedError);
    expect(String(refused)).toContain('422 Unprocessable content: 1 entry has no tenant');
    expect(refusing.failed).toBe(true);
    expect(unrecordedReplayMessage('identity.events', refusing.recorded)).toBe(
      'dlq replay identity.events: nothing replayed: identity did not record the replay (every replay is audited first)',
    );

    const unreachable = new PlatformClient({
      apiUrl: 'http://gateway.test',
      email: 'ops@example.test',
      password: 'secret',
      timeoutMs: 1000,
      fetch: async () => {
        throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
      },
    });
    const silent = replayRecorder(unreachable, 'identity.events', {});
    await expect(silent.record([entry('e1', TENANT)])).rejects.toBeInstanceOf(
      PlatformUnreachableError,
    );
    expect(silent.failed).toBe(true);
  });

  it('names what was replayed before a later chunk went unrecorded', () => {
    const recorded = [
      { auditId: 'a1', operatorId: OPERATOR, recordedAt: '', count: 100, tenants: [] },
      { auditId: 'a2', operatorId: OPERATOR, recordedAt: '', count: 1, tenants: [] },
    ];
    expect(unrecordedReplayMessage('billing.events', recorded)).toBe(
      'dlq replay billing.events: stopped after 101 entries (audit a1, a2): identity did not record the next ones, so they were not replayed',
    );
  });
});
