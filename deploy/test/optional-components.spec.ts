// deploy/local/lib/optional.mjs: what a failed `npm start` may stop. Run in a child node process
// (an ES module; jest runs CommonJS).
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const MODULE = path.resolve(__dirname, '../local/lib/optional.mjs');
const CONFIG = path.resolve(__dirname, '../local/lib/stack-config.mjs');

function evaluate<T>(expression: string): T {
  const script = `
    const m = await import(${JSON.stringify(MODULE)});
    const config = await import(${JSON.stringify(CONFIG)});
    process.stdout.write(JSON.stringify(${expression}));`;
  return JSON.parse(
    execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }),
  ) as T;
}

describe('optional components of the local stack', () => {
  it('stops only the failed optional component this start launched, nothing healthy', () => {
    expect(
      evaluate(
        `m.stopAfterFailure({ failed: ['zipkin'], startedNow: ['postgres', 'kafka', 'zipkin'] })`,
      ),
    ).toEqual(['zipkin']);
    expect(evaluate(`m.stopAfterFailure({ failed: ['zipkin'], startedNow: ['kafka'] })`)).toEqual(
      [],
    );
  });

  it('on a required failure stops what this start launched, never what ran before it', () => {
    expect(
      evaluate(
        `m.stopAfterFailure({ failed: ['registry', 'zipkin'], startedNow: ['registry', 'zipkin'] })`,
      ),
    ).toEqual(['registry', 'zipkin']);
    expect(evaluate(`m.stopAfterFailure({ failed: [], startedNow: ['kafka'] })`)).toEqual([]);
  });

  it('treats Zipkin as optional and PostgreSQL, Kafka and the registry as required', () => {
    expect(
      evaluate(`['zipkin', 'postgres', 'kafka', 'registry', 'services'].map(m.isOptional)`),
    ).toEqual([true, false, false, false, false]);
  });

  it('says what is lost and where to look', () => {
    expect(
      evaluate(
        `m.optionalWarning('zipkin', '.stack/dev/logs/zipkin.log', 'zipkin exited during start-up\\n--- last lines ---')`,
      ),
    ).toBe(
      'zipkin did not answer: traces will not be collected; see .stack/dev/logs/zipkin.log\n' +
        '           (zipkin exited during start-up)',
    );
  });

  it('gives Zipkin a heap that holds its span bound', () => {
    const { opts, maxSpans } = evaluate<{ opts: string[]; maxSpans: number }>(
      `{ opts: config.JVM_OPTS.zipkin, maxSpans: config.ZIPKIN_MAX_SPANS }`,
    );
    const xmx = opts.find((o) => o.startsWith('-Xmx')) ?? '';
    const heapMb = /g$/i.test(xmx) ? Number(xmx.slice(4, -1)) * 1024 : Number(xmx.slice(4, -1));
    // Measured: ~2.9 KB per span with the platform's tags; keep the live set under ~60% of heap.
    expect((maxSpans * 2.9) / 1024).toBeLessThan(heapMb * 0.6);
    expect(opts).toContain('-XX:+ExitOnOutOfMemoryError');
  });
});
