import { CONTEXT_HEADERS, isClientForbiddenContextHeader } from './context-headers';

describe('isClientForbiddenContextHeader', () => {
  it('covers every context header, whatever its case', () => {
    for (const name of Object.values(CONTEXT_HEADERS)) {
      expect(isClientForbiddenContextHeader(name)).toBe(true);
      expect(isClientForbiddenContextHeader(name.toUpperCase())).toBe(true);
    }
  });

  it('covers headers under the context prefixes that nobody listed yet', () => {
    expect(isClientForbiddenContextHeader('X-Tenant-Plan')).toBe(true);
    expect(isClientForbiddenContextHeader('x-actor-roles')).toBe(true);
    expect(isClientForbiddenContextHeader('x-context-anything')).toBe(true);
  });

  it('leaves ordinary headers alone', () => {
    for (const name of ['content-type', 'authorization', 'x-tenantish', 'traceparent']) {
      expect(isClientForbiddenContextHeader(name)).toBe(false);
    }
  });
});
