/** Why a billing operation cannot be done; the HTTP layer maps the reason to a status. */
export type RefusalReason = 'not-found' | 'conflict' | 'unprocessable' | 'forbidden';

export class BillingRefusedError extends Error {
  constructor(
    readonly reason: RefusalReason,
    message: string,
  ) {
    super(message);
    this.name = 'BillingRefusedError';
  }
}
