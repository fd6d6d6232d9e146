export type RefusalKind = 'forbidden' | 'not-found' | 'conflict' | 'invalid';

/** A policy change the rules do not allow; the HTTP layer maps the kind to 403/404/409/400. */
export class PolicyChangeRefusedError extends Error {
  constructor(
    readonly kind: RefusalKind,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = 'PolicyChangeRefusedError';
  }
}
