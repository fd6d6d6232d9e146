/**
 * Rotates the access-token signing key (same as POST /v1/platform/signing-keys/rotate):
 *
 *   node -r @swc-node/register services/identity/src/cli/rotate-signing-key.ts [--delete <kid>]
 *
 * The new key is published at once and signs after SIGNING_KEY_PUBLISH_LEAD_SECONDS; the old one
 * stays in the JWKS until its tokens have expired. `--delete <kid>` removes a key immediately
 * (compromise): every token it signed stops verifying.
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { openServiceDataSource } from '@tenantry/db';
import { loadConfig } from '../config';
import { identityDatabase } from '../persistence/identity-database';
import { KeyEncryption } from '../security/key-encryption';
import { SigningKeyStore } from '../tokens/signing-key-store';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { delete: { type: 'string' } } });
  const config = loadConfig();
  const dataSource = await openServiceDataSource(identityDatabase(config.database));
  try {
    const store = new SigningKeyStore({
      dataSource,
      encryption: new KeyEncryption(config.keyEncryptionSecret),
      tokenTtlSeconds: config.accessTokenTtlSeconds,
    });
    if (values.delete) {
      console.log(JSON.stringify({ deleted: await store.deleteKey(values.delete) }));
    } else {
      console.log(JSON.stringify({ kid: await store.rotate(config.signingKeyPublishLeadSeconds) }));
    }
  } finally {
    await dataSource.destroy();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
