import { DlqUsageError, REPLAY_THROUGH_OPS_CLI, parseDlqArguments } from './dlq-cli-arguments';

describe('parseDlqArguments', () => {
  it('reads every filter, repeatable ones as lists', () => {
    const parsed = parseDlqArguments([
      'list',
      'identity.events',
      '--tenant',
      'acme',
      '--tenant',
      'globex',
      '--type',
      'identity.user.created',
      '--id',
      'e-1',
      '--since',
      '2026-01-01T00:00:00Z',
      '--until',
      '2026-01-02',
      '--timeout',
      '5',
    ]);
    expect(parsed).toEqual({
      command: 'list',
      topic: 'identity.events',
      timeoutMs: 5_000,
      filter: {
        tenantIds: ['acme', 'globex'],
        eventTypes: ['identity.user.created'],
        eventIds: ['e-1'],
        since: new Date('2026-01-01T00:00:00Z'),
        until: new Date('2026-01-02'),
      },
    });
  });

  it('defaults to no filter and a 60 s timeout', () => {
    expect(parseDlqArguments(['list', 'identity.events'])).toEqual({
      command: 'list',
      topic: 'identity.events',
      filter: {},
      timeoutMs: 60_000,
    });
  });

  it('refuses to replay: that is the audited ops CLI’s job', () => {
    expect(() => parseDlqArguments(['replay', 'identity.events'])).toThrow(REPLAY_THROUGH_OPS_CLI);
  });

  it.each([
    [[]],
    [['drop', 'identity.events']],
    [['list']],
    [['list', '--tenant', 'acme']],
    [['list', 'identity.events', '--tenant']],
    [['list', 'identity.events', '--since', 'yesterday']],
    [['list', 'identity.events', '--since', '2026-02-01', '--until', '2026-01-01']],
    [['list', 'identity.events', '--include-replayed']],
    [['list', 'identity.events', '--timeout', '0']],
    [['list', 'identity.events', '--colour', 'red']],
  ])('refuses %j as a usage error', (argv) => {
    expect(() => parseDlqArguments(argv)).toThrow(DlqUsageError);
  });
});
