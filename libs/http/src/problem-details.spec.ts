import { HttpProblem, tooManyRequests } from './problem-details';

describe('HttpProblem', () => {
  it('serialises the RFC 9457 members, and extensions cannot shadow them', () => {
    const problem = new HttpProblem({
      status: 422,
      title: 'Unprocessable',
      slug: 'unprocessable',
      extensions: { status: 200, type: 'x', hint: 'fix it' },
    });
    expect(problem.toDocument('/things')).toEqual({
      type: 'https://tenantry.dev/problems/unprocessable',
      title: 'Unprocessable',
      status: 422,
      instance: '/things',
      hint: 'fix it',
    });
  });

  it('uses about:blank without a slug and refuses non-error statuses', () => {
    expect(new HttpProblem({ status: 400, title: 'Bad' }).type).toBe('about:blank');
    expect(() => new HttpProblem({ status: 200, title: 'Fine' })).toThrow(RangeError);
  });

  it('carries Retry-After for rate limits', () => {
    expect(tooManyRequests(undefined, { retryAfterSeconds: 1.2 }).headers).toEqual({
      'retry-after': '2',
    });
  });
});
