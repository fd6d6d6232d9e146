/** Who can hold roles in a tenant. */
export type AssignableSubjectType = 'user' | 'api_key';

/** Who a decision can be asked about (operators and services hold no tenant roles). */
export type DecisionSubjectType = AssignableSubjectType | 'operator' | 'service';

export interface PolicySubject {
  readonly type: DecisionSubjectType;
  readonly id: string;
}

export const ASSIGNABLE_SUBJECT_TYPES: readonly AssignableSubjectType[] = ['user', 'api_key'];

export function isAssignableSubjectType(type: string): type is AssignableSubjectType {
  return (ASSIGNABLE_SUBJECT_TYPES as readonly string[]).includes(type);
}

// Casbin names: a subject and a role live in one namespace, so both carry a prefix and a user
// called "admin" can never be mistaken for the role.
export function subjectKey(subject: PolicySubject): string {
  return `${subject.type}:${subject.id}`;
}

export function roleKey(role: string): string {
  return `role:${role}`;
}

export function roleOfKey(key: string): string | undefined {
  return key.startsWith('role:') ? key.slice('role:'.length) : undefined;
}
