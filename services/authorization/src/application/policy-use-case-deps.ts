import type { PolicyRepository } from '../persistence/policy-repository';
import type { PolicyChangeRecorder } from './record-policy-change/policy-change-recorder';

export interface PolicyUseCaseDeps {
  readonly repository: PolicyRepository;
  readonly recorder: PolicyChangeRecorder;
}
