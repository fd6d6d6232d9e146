import type { Outbox } from '@tenantry/events';
import type { Clock } from '../domain/clock';
import type { InvoiceRepository } from '../persistence/invoice-repository';
import type { PlanRepository } from '../persistence/plan-repository';
import type { ScheduleRepository } from '../persistence/schedule-repository';
import type { SeatRepository } from '../persistence/seat-repository';
import type { SubscriptionRepository } from '../persistence/subscription-repository';
import type { UsageRepository } from '../persistence/usage-repository';

/** What billing's use cases work with; built once by the service. */
export interface BillingDeps {
  readonly plans: PlanRepository;
  readonly subscriptions: SubscriptionRepository;
  readonly usage: UsageRepository;
  readonly seats: SeatRepository;
  readonly invoices: InvoiceRepository;
  readonly schedule: ScheduleRepository;
  readonly outbox: Outbox;
  readonly clock: Clock;
  readonly paymentTermsDays: number;
  readonly closeRetryMs: number;
}

export const BILLING_SOURCE = '/services/billing';
