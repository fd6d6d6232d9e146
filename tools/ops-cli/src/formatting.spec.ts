import { parseMetricsUrls, resolveOpsConfig } from './ops-config';
import { formatFields, formatTable } from './output';
import { sampleValue } from './prometheus-text';
import { summarizeTrace } from './zipkin-trace';

describe('formatting', () => {
  it('aligns table columns and shows missing cells as -', () => {
    expect(
      formatTable(
        ['A', 'LONGER'],
        [
          ['x', 1],
          ['yyyy', null],
        ],
      ),
    ).toBe('A     LONGER\nx     1\nyyyy  -');
    expect(formatFields({ a: 1, long: undefined })).toBe('a:    1\nlong: -');
  });

  it('reads unlabelled and labelled samples from Prometheus text', () => {
    const text =
      '# HELP outbox_backlog x\noutbox_backlog 3\noutbox_backlog_other 9\nlag{p="0"} 2\nlag{p="1"} 5\n';
    expect(sampleValue(text, 'outbox_backlog')).toBe(3);
    expect(sampleValue(text, 'lag')).toBe(7);
    expect(sampleValue(text, 'absent')).toBeUndefined();
  });

  it('summarises a trace whose root span is missing', () => {
    const summary = summarizeTrace(
      [
        {
          traceId: 't',
          id: 'b',
          parentId: 'lost',
          name: 'process identity.events',
          timestamp: 2_000,
          duration: 1_000,
          localEndpoint: { serviceName: 'billing' },
        },
        {
          traceId: 't',
          id: 'c',
          parentId: 'b',
          name: 'pg.query',
          timestamp: 2_100,
          duration: 500,
          localEndpoint: { serviceName: 'billing' },
        },
      ],
      'http://z',
    );
    expect(summary).toMatchObject({
      traceId: 't',
      services: ['billing'],
      spanCount: 2,
      durationMs: 1,
      uiUrl: 'http://z/zipkin/traces/t',
    });
    expect(summary.tree).toEqual([
      'billing: process identity.events 1 ms',
      '  billing: pg.query 0.5 ms',
    ]);
  });
});

describe('configuration', () => {
  it('takes flags over the environment over the local defaults', () => {
    const config = resolveOpsConfig(
      { apiUrl: 'http://flag:1/' },
      { TENANTRY_API_URL: 'http://env:2', KAFKA_BROKERS: 'k1:9092, k2:9092' },
    );
    expect(config.apiUrl).toBe('http://flag:1');
    expect(config.kafkaBrokers).toEqual(['k1:9092', 'k2:9092']);
    expect(config.zipkinUrl).toBe('http://127.0.0.1:9411');
    expect(config.metricsUrls.gateway).toBe('http://127.0.0.1:9464/metrics');
    expect(config.timeoutMs).toBe(30_000);
  });

  it('parses service=url pairs and refuses anything else', () => {
    expect(
      parseMetricsUrls('M', 'identity=http://a:1/metrics, billing=http://b:2/metrics'),
    ).toEqual({
      identity: 'http://a:1/metrics',
      billing: 'http://b:2/metrics',
    });
    expect(() => parseMetricsUrls('M', 'http://a:1/metrics')).toThrow('service=url');
    expect(() => parseMetricsUrls('M', 'a=ftp://x')).toThrow('http(s)');
  });
});
