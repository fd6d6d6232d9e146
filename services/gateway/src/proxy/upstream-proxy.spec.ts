import { HttpProblem } from '@tenantry/http';
import { upstreamTarget } from './upstream-proxy';

describe('upstreamTarget', () => {
  it('is the upstream origin with the client path and query', () => {
    expect(upstreamTarget('http://identity:4001', '/v1/me?x=1').href).toBe(
      'http://identity:4001/v1/me?x=1',
    );
  });

  it.each(['http://127.0.0.1:9999/v1/me', '//127.0.0.1:9999/v1/me', 'v1/me', '*'])(
    'never leaves the upstream for %s',
    (path) => {
      expect(() => upstreamTarget('http://identity:4001', path)).toThrow(HttpProblem);
    },
  );

  it('keeps a path that only looks like a host inside the upstream', () => {
    const target = upstreamTarget('http://identity:4001', '/@evil.example/v1');
    expect(target.origin).toBe('http://identity:4001');
  });
});
