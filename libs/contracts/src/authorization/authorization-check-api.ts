// The internal decision API the gateway calls for every request (coarse route permissions).
// Only callers whose signed context says actor type `service` may use it.

export const INTERNAL_AUTHZ_CHECK_PATH = '/internal/v1/authz/check';

/** Whose permissions are checked: operators hold no tenant roles, so every check is false. */
export type AuthzCheckSubjectType = 'user' | 'api_key' | 'operator';

export interface InternalAuthzCheckRequest {
  tenantId: string;
  subject: { type: AuthzCheckSubjectType; id: string };
  /** 1 to 100 permissions, `<resource>:<action>`. */
  permissions: string[];
}

export interface InternalAuthzCheckResponse {
  /** One entry per requested permission. Unknown permissions are `false`, never an error. */
  decisions: Record<string, boolean>;
}
