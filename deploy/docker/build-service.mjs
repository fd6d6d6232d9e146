// Compiles one service for its container image: TypeScript to CommonJS with tsc (decorator
// metadata for TypeORM), only the files the service's entry points reach, laid out like the
// repository so npm's workspace links (node_modules/@tenantry/<lib> -> ../../libs/<lib>) resolve
// to the compiled libs. Each shipped package.json gets `main` pointing at its compiled index.
//
//   node deploy/docker/build-service.mjs <service> [outDir]     (default outDir: dist/image)
//
// Run by deploy/docker/Dockerfile and by deploy/test/image-build.spec.ts.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TSCONFIG = path.join(REPO_ROOT, 'deploy/docker/tsconfig.build.json');

function fail(message) {
  process.stderr.write(`build-service: ${message}\n`);
  process.exit(1);
}

const [service, outArg] = process.argv.slice(2);
if (!service || !/^[a-z][a-z0-9-]*$/.test(service)) {
  fail('usage: build-service.mjs <service> [outDir]');
}
const serviceDir = path.join(REPO_ROOT, 'services', service);
const mainTs = path.join(serviceDir, 'src/main.ts');
if (!fs.existsSync(mainTs)) fail(`no services/${service}/src/main.ts`);
const outDir = path.resolve(outArg ?? path.join(REPO_ROOT, 'dist/image'));

// Entry points: the server, plus operator commands (src/cli/*.ts) run with `kubectl exec`.
const cliDir = path.join(serviceDir, 'src/cli');
const roots = [mainTs];
if (fs.existsSync(cliDir)) {
  for (const name of fs.readdirSync(cliDir).sort()) {
    if (name.endsWith('.ts') && !name.endsWith('.spec.ts')) roots.push(path.join(cliDir, name));
  }
}

const raw = ts.readConfigFile(TSCONFIG, ts.sys.readFile);
if (raw.error) fail(ts.flattenDiagnosticMessageText(raw.error.messageText, '\n'));
const parsed = ts.parseJsonConfigFileContent(raw.config, ts.sys, path.dirname(TSCONFIG), {
  outDir,
});
if (parsed.errors.length > 0) fail(format(parsed.errors));

fs.rmSync(outDir, { recursive: true, force: true });
const program = ts.createProgram({ rootNames: roots, options: parsed.options });
const diagnostics = ts.getPreEmitDiagnostics(program);
if (diagnostics.some((d) => d.category === ts.DiagnosticCategory.Error)) fail(format(diagnostics));
const emitted = program.emit();
if (emitted.emitSkipped) fail(format(emitted.diagnostics));

function format(list) {
  return ts.formatDiagnostics(list, {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => REPO_ROOT,
    getNewLine: () => '\n',
  });
}

// Packages whose sources were compiled: their manifests ship with `main` at the compiled entry.
const packages = new Map();
for (const file of program
  .getRootFileNames()
  .concat(program.getSourceFiles().map((s) => s.fileName))) {
  const rel = path.relative(REPO_ROOT, file);
  const match = /^(libs|services)\/([^/]+)\/src\//.exec(rel.split(path.sep).join('/'));
  if (match)
    packages.set(`${match[1]}/${match[2]}`, match[1] === 'libs' ? 'src/index.js' : 'src/main.js');
}
if ([...packages.keys()].some((p) => p.startsWith('services/') && p !== `services/${service}`)) {
  fail(`services/${service} imports another service`);
}
for (const [pkg, main] of packages) {
  const manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, pkg, 'package.json'), 'utf8'));
  manifest.main = main;
  delete manifest.types;
  delete manifest.scripts;
  delete manifest.nx;
  if (!fs.existsSync(path.join(outDir, pkg, main))) fail(`${pkg}: ${main} was not emitted`);
  fs.writeFileSync(
    path.join(outDir, pkg, 'package.json'),
    `${JSON.stringify(manifest, null, 2)}\n`,
  );
}

// One fixed entry file, so the image's CMD does not depend on the build argument.
fs.writeFileSync(
  path.join(outDir, 'main.js'),
  `'use strict';\n// Entry of the ${service} image, written by deploy/docker/build-service.mjs.\nrequire('./services/${service}/src/main.js');\n`,
);
process.stdout.write(
  `build-service: ${service} -> ${path.relative(REPO_ROOT, outDir) || outDir} (${[...packages.keys()].sort().join(', ')})\n`,
);
