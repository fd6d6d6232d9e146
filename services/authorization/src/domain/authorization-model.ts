/**
 * Casbin's RBAC with domains, the domain being the tenant: `p, role:<name>, <tenant>, <resource>,
 * <action>` and `g, <subject>, role:<name>, <tenant>`. It is Casbin's own example model, so the
 * benchmark's baseline runs the same matcher.
 */
export const AUTHORIZATION_MODEL = `
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, dom, obj, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub, r.dom) && r.dom == p.dom && r.obj == p.obj && r.act == p.act
`;
