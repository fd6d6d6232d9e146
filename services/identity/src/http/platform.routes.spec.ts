import {
  PLATFORM_PERMISSIONS,
  isCataloguePermission,
  isPlatformPermission,
} from '@tenantry/contracts';
import { ApiRoutes } from '@tenantry/http';
import type { IdentityDeps } from '../application/identity-deps';
import { accessPolicy } from '../domain/access-policy';
import { platformRoutes } from './platform.routes';

// Registering routes touches no dependency; the handlers are never called here.
const routes = new ApiRoutes({ title: 'identity', version: 'test' });
platformRoutes(routes, {} as IdentityDeps);
const platform = routes.summaries().filter((r) => r.path.startsWith('/v1/platform/'));

describe("identity's platform routes and the platform permission catalogue", () => {
  it('declare only permissions of the platform catalogue (what the OpenAPI x-permission shows)', () => {
    expect(platform.length).toBeGreaterThan(0);
    const strays = platform.filter((r) => !isPlatformPermission(r.permission));
    expect(strays).toEqual([]);
  });

  it('never name a tenant permission, which tenant roles (owners: all of them) hold', () => {
    expect(platform.filter((r) => isCataloguePermission(r.permission))).toEqual([]);
    expect(PLATFORM_PERMISSIONS.filter((p) => isCataloguePermission(p))).toEqual([]);
  });

  it('leave no catalogue permission without a route, nor without an operator role allowed it', () => {
    const declared = new Set<string>(platform.map((r) => r.permission));
    expect(PLATFORM_PERMISSIONS.filter((p) => !declared.has(p))).toEqual([]);
    for (const permission of PLATFORM_PERMISSIONS) {
      expect(accessPolicy.operatorRoleAllows('admin', permission)).toBe(true);
    }
  });
});
