export type InvoiceStatus = 'draft' | 'issued' | 'paid' | 'void';

const NEXT: Readonly<Record<InvoiceStatus, readonly InvoiceStatus[]>> = {
  draft: ['issued'],
  issued: ['paid', 'void'],
  paid: [],
  void: [],
};

export class InvoiceTransitionError extends Error {
  constructor(
    readonly from: InvoiceStatus,
    readonly to: InvoiceStatus,
  ) {
    super(`an invoice cannot go from ${from} to ${to}`);
    this.name = 'InvoiceTransitionError';
  }
}

/** draft -> issued (finalized, numbered, immutable) -> paid | void. Nothing else. */
export function assertInvoiceTransition(from: InvoiceStatus, to: InvoiceStatus): void {
  if (!NEXT[from].includes(to)) throw new InvoiceTransitionError(from, to);
}

export function canTransition(from: InvoiceStatus, to: InvoiceStatus): boolean {
  return NEXT[from].includes(to);
}

export type DocumentSeries = 'invoice' | 'credit-note';

/** `INV-000042`, `CN-000007`: the per-tenant sequence number, zero-padded. */
export function documentNumber(series: DocumentSeries, sequence: number): string {
  if (!Number.isSafeInteger(sequence) || sequence < 1) throw new RangeError('sequence >= 1');
  return `${series === 'invoice' ? 'INV' : 'CN'}-${String(sequence).padStart(6, '0')}`;
}
