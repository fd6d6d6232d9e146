/**
 * The top self-time functions of a V8 `.cpuprofile` (as `node --cpu-prof` writes it, e.g. with
 * BENCH_CPU_PROFILE=<dir> npm run bench), and the total time under a few frames of interest.
 *
 *   npx tsx bench/support/cpu-profile-top.ts <file.cpuprofile> [rows=30]
 */
import fs from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url ? url.replace(/^file:\/\//, '').replace(`${process.cwd()}/`, '') : '';
  const short = file.replace(/^.*node_modules\//, '~/');
  return `${functionName || '(anonymous)'} ${short ? `${short}:${lineNumber + 1}` : ''}`.trim();
}

function main(): void {
  const [file, rowsArg] = process.argv.slice(2);
  if (!file) throw new Error('usage: cpu-profile-top.ts <file.cpuprofile> [rows]');
  const rows = Number(rowsArg ?? 30);
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    self.set(id, (self.get(id) ?? 0) + dt);
    total += dt;
  });

  // Self time per function (summed over every call site).
  const selfByLabel = new Map<string, number>();
  for (const [id, us] of self) {
    const key = label(byId.get(id)!);
    selfByLabel.set(key, (selfByLabel.get(key) ?? 0) + us);
  }
  // Inclusive time per package / file (each sample counted once per file on its stack).
  const inclusiveByFile = new Map<string, number>();
  for (const [id, us] of self) {
    if (byId.get(id)!.callFrame.functionName === '(idle)') continue;
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const url = byId.get(at)!.callFrame.url;
      if (!url) continue;
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
      const key = m ? m[1]! : url.replace(/^file:\/\//, '').replace(`${process.cwd()}/`, '');
      if (seen.has(key)) continue;
      seen.add(key);
      inclusiveByFile.set(key, (inclusiveByFile.get(key) ?? 0) + us);
    }
  }
  // Shares of the busy time (samples not idle): what a request's CPU is spent on.
  const idle = selfByLabel.get('(idle)') ?? 0;
  selfByLabel.delete('(idle)');
  const busy = total - idle;
  const pct = (us: number): string => `${((100 * us) / busy).toFixed(1).padStart(5)} %`;
  console.log(
    `${path.basename(file)}: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy; ` +
      'shares of the busy time',
  );
  console.log('\nself time');
  for (const [key, us] of [...selfByLabel].sort((a, b) => b[1] - a[1]).slice(0, rows)) {
    console.log(`${pct(us)}  ${key}`);
  }
  console.log('\ninclusive time by package / file');
  for (const [key, us] of [...inclusiveByFile].sort((a, b) => b[1] - a[1]).slice(0, rows)) {
    console.log(`${pct(us)}  ${key}`);
  }
}

main();
