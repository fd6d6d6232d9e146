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

export interface TenantDetails extends TenantStatus {
  readonly name: string;
  readonly slug: string;
  readonly plan: string;
  readonly createdAt: string;
  readonly statusChangedAt: string;
  readonly statusReason: string | null;
}

const path = (tenantId: string) => `/v1/platform/tenants/${encodeURIComponent(tenantId)}`;

/**
 * `tenants show|suspend|resume|delete`, through the gateway's operator routes: identity checks the
 * operator's role and writes the audit record (suspend, resume, delete) with the operator as actor.
 */
export function registerTenantCommands(program: Command, context: OpsContext): void {
  const tenants = program
    .command('tenants')
    .description('list, show, suspend, resume and delete tenants (changes audited by identity)');

  const statusLine = (result: TenantStatus) => `tenant ${result.tenantId}: ${result.status}`;

  tenants
    .command('list')
    .description('every tenant, oldest first (all pages, or --limit of them)')
    .option('--status <status>', 'only active, suspended or deleted tenants', (value: string) => {
      if (!['active', 'suspended', 'deleted'].includes(value)) {
        throw new InvalidArgumentError('one of active, suspended, deleted.');
      }
      return value;
    })
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
    .description('a tenant as the platform sees it')
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
    .description("delete a tenant now: its people's personal data is erased (ADR 0013)")
    .argument('<tenant-id>', 'the tenant (UUID)', tenantIdArgument)
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (tenantId: string, options: { yes?: boolean }, command: Command) => {
      const config = configOf(context, command);
      if (!options.yes) {
        const sure = await context.io.confirm(
          `Delete tenant ${tenantId} and erase its people's personal data? This cannot be undone. [y/N] `,
        );
        if (!sure)
          throw new OperationFailedError(
            'not deleted: not confirmed (use --yes to skip the question)',
          );
      }
      const result = await platformClientOf(context, config).call<TenantStatus>(
        'DELETE',
        path(tenantId),
      );
      printResult(context.io, config.json, result, () => statusLine(result));
    });
}
