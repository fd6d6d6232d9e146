import type { ActivityRepository } from '../persistence/activity-repository';
import type { BillingRepository } from '../persistence/billing-repository';
import type { ErasedUserRepository } from '../persistence/erased-user-repository';
import type { FreshnessRepository } from '../persistence/freshness-repository';
import type { MemberRepository } from '../persistence/member-repository';
import type { PlatformRepository } from '../persistence/platform-repository';
import type { TenantRepository } from '../persistence/tenant-repository';
import type { UsageRepository } from '../persistence/usage-repository';

/** The read models the handlers write. */
export interface ReadModelDeps {
  readonly tenants: TenantRepository;
  readonly freshness: FreshnessRepository;
  readonly usage: UsageRepository;
  readonly members: MemberRepository;
  readonly billing: BillingRepository;
  readonly activity: ActivityRepository;
  readonly platform: PlatformRepository;
  readonly erasedUsers: ErasedUserRepository;
}
