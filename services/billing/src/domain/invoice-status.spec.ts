import { assertInvoiceTransition, canTransition, documentNumber } from './invoice-status';

describe('invoice lifecycle', () => {
  it('goes draft -> issued -> paid | void only', () => {
    expect(canTransition('draft', 'issued')).toBe(true);
    expect(canTransition('issued', 'paid')).toBe(true);
    expect(canTransition('issued', 'void')).toBe(true);
    for (const [from, to] of [
      ['draft', 'paid'],
      ['draft', 'void'],
      ['paid', 'void'],
      ['void', 'paid'],
      ['paid', 'issued'],
      ['issued', 'draft'],
    ] as const) {
      expect(() => assertInvoiceTransition(from, to)).toThrow(/cannot go/);
    }
  });

  it('numbers documents per series', () => {
    expect(documentNumber('invoice', 42)).toBe('INV-000042');
    expect(documentNumber('credit-note', 1)).toBe('CN-000001');
    expect(() => documentNumber('invoice', 0)).toThrow(RangeError);
  });
});
