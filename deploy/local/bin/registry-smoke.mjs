#!/usr/bin/env node
// Proves the schema registry works for the platform through @kafkajs/confluent-schema-registry:
// register an Avro schema, encode/decode in Confluent wire format, a BACKWARD-compatible change is
// accepted, an incompatible one (new required field without default) is refused.
//
//   node deploy/local/bin/registry-smoke.mjs [--url http://127.0.0.1:8081/apis/ccompat/v7]
//        [--profile dev] [--expect-existing]
// --expect-existing: fail unless the smoke subject was already there (run it once, restart the
// stack, run it again with this flag: schemas survive restarts).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const argv = process.argv.slice(2);
const arg = (name) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};

function registryUrl() {
  const explicit = arg('url') ?? process.env.SCHEMA_REGISTRY_URL;
  if (explicit) return explicit;
  try {
    return JSON.parse(
      fs.readFileSync(path.join(ROOT, '.stack', arg('profile') ?? 'dev', 'stack.json'), 'utf8'),
    ).schemaRegistryUrl;
  } catch {
    return 'http://127.0.0.1:8081/apis/ccompat/v7';
  }
}

const SUBJECT = 'platform.smoke-value';
const record = (fields) =>
  JSON.stringify({ type: 'record', name: 'SmokeEvent', namespace: 'dev.tenantry.smoke', fields });
const V1 = record([
  { name: 'id', type: 'string' },
  { name: 'tenantId', type: 'string' },
]);
const V2_COMPATIBLE = record([
  { name: 'id', type: 'string' },
  { name: 'tenantId', type: 'string' },
  { name: 'note', type: ['null', 'string'], default: null },
]);
const V3_BREAKING = record([
  { name: 'id', type: 'string' },
  { name: 'tenantId', type: 'string' },
  { name: 'note', type: ['null', 'string'], default: null },
  { name: 'amount', type: 'long' },
]);

let step = 'init';
async function main() {
  const host = registryUrl();
  const registry = new SchemaRegistry({ host });

  step = 'list subjects';
  const res = await fetch(`${host}/subjects`);
  if (!res.ok) throw new Error(`GET /subjects: HTTP ${res.status}`);
  const existed = (await res.json()).includes(SUBJECT);
  console.log(
    `[registry-smoke] ${host}: subject ${SUBJECT} ${existed ? 'already registered' : 'not registered yet'}`,
  );
  if (argv.includes('--expect-existing') && !existed)
    throw new Error(`subject ${SUBJECT} is missing: schemas did not survive`);

  step = 'global compatibility';
  const cfg = await (await fetch(`${host}/config`)).json();
  if ((cfg.compatibilityLevel ?? cfg.compatibility) !== 'BACKWARD')
    throw new Error(`global compatibility is ${JSON.stringify(cfg)}`);

  step = 'register v1';
  const { id: id1 } = await registry.register(
    { type: SchemaType.AVRO, schema: V1 },
    { subject: SUBJECT },
  );
  step = 'encode/decode';
  const payload = { id: 'e-1', tenantId: 't-1' };
  const buf = await registry.encode(id1, payload);
  if (buf[0] !== 0 || buf.readInt32BE(1) !== id1) throw new Error('not Confluent wire format');
  const back = await registry.decode(buf);
  if (back.id !== 'e-1' || back.tenantId !== 't-1')
    throw new Error(`decode gave ${JSON.stringify(back)}`);

  step = 'register compatible v2';
  const { id: id2 } = await registry.register(
    { type: SchemaType.AVRO, schema: V2_COMPATIBLE },
    { subject: SUBJECT },
  );
  console.log(`[registry-smoke] v1 id ${id1}, compatible v2 id ${id2}; wire-format round trip ok`);

  step = 'refuse incompatible v3';
  let refused = null;
  try {
    await registry.register({ type: SchemaType.AVRO, schema: V3_BREAKING }, { subject: SUBJECT });
  } catch (e) {
    refused = e;
  }
  if (!refused)
    throw new Error('an incompatible schema (required field without default) was accepted');
  const status = refused.status ?? refused.response?.status;
  console.log(
    `[registry-smoke] incompatible v3 refused: ${status ?? ''} ${String(refused.message).split('\n')[0].slice(0, 200)}`,
  );

  const versions = await (await fetch(`${host}/subjects/${SUBJECT}/versions`)).json();
  console.log(`[registry-smoke] versions of ${SUBJECT}: ${JSON.stringify(versions)}`);
  console.log('[registry-smoke] OK');
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`[registry-smoke] FAILED at step "${step}": ${err?.stack ?? err}`);
    process.exit(1);
  },
);
