// `npm ci` prints no EBADENGINE: every locked package accepts the oldest Node that package.json's
// engines allows, and the Dockerfile's base image is on that Node line.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { REPO_ROOT } from './manifest-helpers';

// semver comes with npm's own dependency tree (no @types); only these two calls are needed.
const semver = createRequire(__filename)('semver') as {
  satisfies(version: string, range: string): boolean;
  minVersion(range: string): { version: string; major: number } | null;
};

interface LockEntry {
  readonly version?: string;
  // Old lock entries may hold the legacy array form, which npm does not check.
  readonly engines?: { readonly node?: string } | string[];
  readonly os?: readonly string[];
  readonly cpu?: readonly string[];
}

const rootPackage = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
  engines: { node: string };
};
const lock = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, LockEntry>;
};
const oldestNode = semver.minVersion(rootPackage.engines.node);

/** npm skips (and never checks) packages built for another platform; the machines are linux-x64. */
function installedHere(entry: LockEntry): boolean {
  return (!entry.os || entry.os.includes('linux')) && (!entry.cpu || entry.cpu.includes('x64'));
}

describe('Node version agreement', () => {
  it('package.json engines names a lower bound', () => {
    expect(oldestNode).not.toBeNull();
  });

  it('every locked package accepts the oldest Node that engines allows (no EBADENGINE)', () => {
    const refusing = Object.entries(lock.packages)
      .filter(([name, entry]) => name !== '' && installedHere(entry))
      .flatMap(([name, entry]) => {
        const range = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
        return range && !semver.satisfies(oldestNode!.version, range)
          ? [`${name.replace(/^.*node_modules\//, '')}@${entry.version}: node ${range}`]
          : [];
      });
    expect(refusing).toEqual([]);
  });

  it('the Dockerfile runs the Node line of engines', () => {
    const dockerfile = fs.readFileSync(path.join(REPO_ROOT, 'deploy/docker/Dockerfile'), 'utf8');
    const majors = [...dockerfile.matchAll(/^FROM node:(\d+)/gm)].map((m) => Number(m[1]));
    expect(majors.length).toBeGreaterThan(0);
    // A floating major tag (node:20-...) is the newest 20.x, so at least engines' 20.19.
    for (const major of majors) expect(major).toBe(oldestNode!.major);
  });
});
