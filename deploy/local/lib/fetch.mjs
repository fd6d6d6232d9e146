// Fetches the JVM servers from Maven Central into .cache/ with mvn (local repo .cache/m2, so CI can
// cache the whole folder). Skipped when the files are already there.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { CACHE_DIR, POM, VERSIONS } from './stack-config.mjs';
import { log } from './proc.mjs';

export function artifactPaths() {
  return {
    kafkaLibs: path.join(CACHE_DIR, `kafka-${VERSIONS.kafka}`, 'libs'),
    apicurioDir: path.join(CACHE_DIR, `apicurio-${VERSIONS.apicurio}`),
    zipkinJar: path.join(CACHE_DIR, `zipkin-${VERSIONS.zipkin}`, 'zipkin-server-exec.jar'),
  };
}

function present(p) {
  const a = artifactPaths();
  return {
    kafka: fs.existsSync(path.join(a.kafkaLibs, `kafka_2.13-${VERSIONS.kafka}.jar`)),
    apicurio: fs.existsSync(path.join(a.apicurioDir, 'quarkus-run.jar')),
    zipkin: fs.existsSync(a.zipkinJar),
  }[p];
}

/** Ensures the jars of `components` (subset of kafka, apicurio, zipkin) are in .cache/. */
export function ensureArtifacts(components) {
  const goals = {
    kafka: 'dependency:copy-dependencies@kafka',
    apicurio: 'dependency:unpack@apicurio',
    zipkin: 'dependency:copy@zipkin',
  };
  if (components.length === 0) return 0;
  const missing = components.filter((c) => !present(c));
  if (missing.length === 0) {
    log(
      `jars already in ${path.relative(process.cwd(), CACHE_DIR) || CACHE_DIR}/ (${components.join(', ')})`,
    );
    return 0;
  }
  const mvn = process.env.MVN || 'mvn';
  const args = [
    '-q',
    '-B',
    '-Dstyle.color=never',
    '-f',
    POM,
    `-Dmaven.repo.local=${path.join(CACHE_DIR, 'm2')}`,
    `-Dstack.cache=${CACHE_DIR}`,
    `-Dkafka.version=${VERSIONS.kafka}`,
    `-Dapicurio.version=${VERSIONS.apicurio}`,
    `-Dzipkin.version=${VERSIONS.zipkin}`,
    ...missing.map((c) => goals[c]),
  ];
  log(
    `fetching ${missing.map((c) => `${c} ${VERSIONS[c]}`).join(', ')} from Maven Central: ${mvn} ${args.join(' ')}`,
  );
  const t0 = Date.now();
  const r = spawnSync(mvn, args, { stdio: 'inherit' });
  if (r.error) throw new Error(`could not run ${mvn}: ${r.error.message} (install Maven 3.8+)`);
  if (r.status !== 0) throw new Error(`mvn failed with exit code ${r.status}`);
  for (const c of missing)
    if (!present(c)) throw new Error(`mvn finished but ${c} is missing in ${CACHE_DIR}`);
  const s = (Date.now() - t0) / 1000;
  log(`fetched in ${s.toFixed(1)}s`);
  return s;
}
