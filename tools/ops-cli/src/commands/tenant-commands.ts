import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { OperationFailedError } from '../exit-codes';
import type { OpsContext } from '../ops-context';
import { configOf, platformClientOf } from '../ops-context';
import { formatFields, formatTable, printResult } from '../output';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function tenantIdArgument(value: string): string {
  if (!UUID.test(value)) throw new InvalidArgumentError('a tenant id is a UUID.');
  return value.toLowerCase();
}

export interface TenantStatus {
  readonly tenantId: string;
  readonly status: string;
}

/** Where a tenant's offboarding stands (docs/adr/0016). */
export interface Offboarding extends TenantStatus {
  readonly deletionRequestedAt: string | null;
  readonly purgeAfter: string | null;
  readonly purgeStartedAt: string | null;
  readonly deletedAt: string | null;
  readonly confirmed: readonly { readonly service: string; readonly confirmedAt: string }[];
  readonly pending: readonly string[];
}

export interface TenantDetails extends TenantStatus {
  readonly name: string;
  readonly slug: string;
  readonly plan: string;
  readonly createdAt: string;
  readonly statusChangedAt: string;
  readonly statusReason: string | null;
  /** Null (or absent, from an older identity) for a tenant nobody asked to delete. */
  readonly offboarding?: Offboarding | null;
}

const STATUSES = ['active', 'suspended', 'deleting', 'purging', 'deleted'];

/** The offboarding lines of `tenants show`: none for a tenant nobody asked to delete. */
export function offboardingFields(
  offboarding: Offboarding | null | undefined,
): Record<string, string> {
  if (!offboarding) return {};
  const confirmed = offboarding.confirmed.map((c) => `${c.service} (${c.confirmedAt})`);
  const waiting =
    offboarding.status === 'deleting' ? 'the purge (grace period)' : offboarding.pending.join(', ');
  return {
    'deletion requested': offboarding.deletionRequestedAt ?? '-',
    'purge after': offboarding.purgeAfter ?? '-',
    'purge started': offboarding.purgeStartedAt ?? '-',
    'purge confirmed by': confirmed.length > 0 ? confirmed.join(', ') : '-',
    'waiting for': waiting === '' ? '-' : waiting,
    deleted: offboarding.deletedAt ?? '-',
  };
}

/** What `tenants delete` and `cancel-deletion` print. */
export function offboardingLine(result: Offboarding): string {
  if (result.status === 'deleting') {
    return `tenant ${result.tenantId}: deleting; the purge starts after ${result.purgeAfter ?? '?'} (cancel before then with \`tenantry tenants cancel-deletion ${result.tenantId}\`)`;
  }
  if (result.status === 'purging') {
    return `tenant ${result.tenantId}: purging; waiting for ${result.pending.join(', ') || 'nothing'}`;
  }
  return `tenant ${result.tenantId}: ${result.status}`;
}

const path = (tenantId: string) => `/v1/platform/tenants/${encodeURIComponent(tenantId)}`;

/**
 * `tenants list|show|suspend|resume|delete|cancel-deletion`, through the gateway's operator
 * routes: identity checks the operator's role and writes the audit record (suspend, resume,
 * delete, cancel) with the operator as actor.
 */
export function registerTenantCommands(program: Command, context: OpsContext): void {
  const tenants = program
    .command('tenants')
    .description(
      'list, show, suspend, resume, delete tenants and cancel deletions (changes audited by identity)',
    );

  const statusLine = (result: TenantStatus) => `tenant ${result.tenantId}: ${result.status}`;

  tenants
    .command('list')
    .description('every tenant, oldest first (all pages, or --limit of them)')
    .option(
      '--status <status>',
      `only tenants in this status (${STATUSES.join(', ')})`,
      (value: string) => {
        if (!STATUSES.includes(value)) {
          throw new InvalidArgumentError(`one of ${STATUSES.join(', ')}.`);
        }
        return value;
      },
    )
    .option('--limit <n>', 'at most this many', (value: string) => {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a whole number >= 1.');
      return n;
    })
    .action(async (options: { status?: string; limit?: number }, command: Command) => {
      const config = configOf(context, command);
      const client = platformClientOf(context, config);
      const all: TenantDetails[] = [];
      let after: string | null = null;
      do {
        const query = new URLSearchParams({ limit: '500' });
        if (options.status) query.set('status', options.status);
        if (after) query.set('after', after);
        const page: { tenants: TenantDetails[]; next: string | null } = await client.call(
          'GET',
          `/v1/platform/tenants?${query.toString()}`,
        );
        all.push(...page.tenants);
        after = page.next;
      } while (after && (options.limit === undefined || all.length < options.limit));
      const tenantsShown = options.limit === undefined ? all : all.slice(0, options.limit);
      printResult(context.io, config.json, tenantsShown, () =>
        formatTable(
          ['TENANT', 'STATUS', 'NAME', 'PLAN', 'CREATED'],
          tenantsShown.map((t) => [t.tenantId, t.status, t.name, t.plan, t.createdAt]),
        ),
      );
    });

  tenants
    .command('show')
    .description(
      'a tenant as the platform sees it; while it is being deleted, which services still owe their purge',
    )
    .argument('<tenant-id>', 'the tenant (UUID)', tenantIdArgument)
    .action(async (tenantId: string, _options: unknown, command: Command) => {
      const config = configOf(context, command);
      const tenant = await platformClientOf(context, config).call<TenantDetails>(
        'GET',
        path(tenantId),
      );
      printResult(context.io, config.json, tenant, () =>
        formatFields({
          tenant: tenant.tenantId,
          name: tenant.name,
          slug: tenant.slug,
          status: tenant.status,
          reason: tenant.statusReason,
          plan: tenant.plan,
          created: tenant.createdAt,
          'status changed': tenant.statusChangedAt,
          ...offboardingFields(tenant.offboarding),
        }),
      );
    });

  tenants
    .command('suspend')
    .description("suspend a tenant: its users' tokens and keys are refused with 403 until resumed")
    .argument('<tenant-id>', 'the tenant (UUID)', tenantIdArgument)
    .option('--reason <text>', 'why (kept with the tenant and in the audit record)')
    .action(async (tenantId: string, options: { reason?: string }, command: Command) => {
      const config = configOf(context, command);
      const result = await platformClientOf(context, config).call<TenantStatus>(
        'POST',
        `${path(tenantId)}/suspend`,
        options.reason ? { reason: options.reason } : {},
      );
      printResult(context.io, config.json, result, () => statusLine(result));
    });

  tenants
    .command('resume')
    .description('resume a suspended tenant')
    .argument('<tenant-id>', 'the tenant (UUID)', tenantIdArgument)
    .action(async (tenantId: string, _options: unknown, command: Command) => {
      const config = configOf(context, command);
      const result = await platformClientOf(context, config).call<TenantStatus>(
        'POST',
        `${path(tenantId)}/resume`,
      );
      printResult(context.io, config.json, result, () => statusLine(result));
    });

  tenants
    .command('delete')
    .description(
      "delete a tenant: refused at once, purged by every service after the grace period (ADR 0016); its people's personal data is erased (ADR 0013)",
    )
    .argument('<tenant-id>', 'the tenant (UUID)', tenantIdArgument)
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (tenantId: string, options: { yes?: boolean }, command: Command) => {
      const config = configOf(context, command);
      if (!options.yes) {
        const sure = await context.io.confirm(
          `Delete tenant ${tenantId}? After the grace period every service purges it and its people's personal data is erased; that cannot be undone. [y/N] `,
        );
        if (!sure)
          throw new OperationFailedError(
            'not deleted: not confirmed (use --yes to skip the question)',
          );
      }
      const result = await platformClientOf(context, config).call<Offboarding>(
        'DELETE',
        path(tenantId),
      );
      printResult(context.io, config.json, result, () => offboardingLine(result));
    });

  tenants
    .command('cancel-deletion')
    .description('cancel a deletion in its grace period: the tenant gets its previous status back')
    .argument('<tenant-id>', 'the tenant (UUID)', tenantIdArgument)
    .action(async (tenantId: string, _options: unknown, command: Command) => {
      const config = configOf(context, command);
      const result = await platformClientOf(context, config).call<Offboarding>(
        'POST',
        `${path(tenantId)}/cancel-deletion`,
      );
      printResult(context.io, config.json, result, () => offboardingLine(result));
    });
}
