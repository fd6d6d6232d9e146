// Picks a `java` binary per component: the default one when new enough, else a newer JDK.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { EXTRA_JDKS } from './stack-config.mjs';

const cache = new Map();

function majorOf(javaBin) {
  if (cache.has(javaBin)) return cache.get(javaBin);
  const r = spawnSync(javaBin, ['-version'], { encoding: 'utf8' });
  let major = null;
  if (r.status === 0) {
    const m = /version "(\d+)(?:\.(\d+))?/.exec(`${r.stderr}${r.stdout}`);
    if (m) major = m[1] === '1' ? Number(m[2]) : Number(m[1]);
  }
  cache.set(javaBin, major);
  return major;
}

function candidates() {
  const list = [];
  if (process.env.JAVA_HOME) list.push(path.join(process.env.JAVA_HOME, 'bin/java'));
  list.push('java');
  for (const home of EXTRA_JDKS) list.push(path.join(home, 'bin/java'));
  try {
    for (const d of fs.readdirSync('/usr/lib/jvm').sort().reverse())
      list.push(path.join('/usr/lib/jvm', d, 'bin/java'));
  } catch {
    /* no /usr/lib/jvm */
  }
  return [...new Set(list)];
}

/** Absolute or PATH `java` whose feature release is >= min. */
export function javaFor(min, component) {
  const seen = [];
  for (const bin of candidates()) {
    if (bin !== 'java' && !fs.existsSync(bin)) continue;
    const major = majorOf(bin);
    if (major) seen.push(`${bin} (${major})`);
    if (major && major >= min) return { bin, major };
  }
  throw new Error(
    `${component} needs Java ${min} or newer; found: ${seen.join(', ') || 'none'}. Install a JDK ${min}+ or set JAVA_HOME.`,
  );
}
