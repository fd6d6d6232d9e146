import type { DataSource } from 'typeorm';
import type { PolicyUseCaseDeps } from '../application/policy-use-case-deps';
import type { AuditLogRepository } from '../persistence/audit-log-repository';
import type { PolicyRepository } from '../persistence/policy-repository';
import type { PolicyEngine } from '../policy/policy-engine';

export interface RouteDeps {
  readonly dataSource: DataSource;
  readonly engine: PolicyEngine;
  readonly repository: PolicyRepository;
  readonly audit: AuditLogRepository;
  readonly useCases: PolicyUseCaseDeps;
}
