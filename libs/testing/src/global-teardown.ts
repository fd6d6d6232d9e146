/**
 * Jest globalTeardown of the integration project: stops the `test` stack if (and only if) the
 * global setup started it. KEEP_TEST_STACK=1 leaves it running; the next setup reuses it.
 */
import { runPlatform, testStackHandle } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const handle = testStackHandle();
  if (!handle?.startedBySetup) return;
  if (handle.containers) {
    // KEEP_TEST_STACK does not apply: the containers go with this process anyway (the reaper).
    await handle.containers.stop();
    return;
  }
  if (process.env.KEEP_TEST_STACK === '1') {
    process.stderr.write(
      `[testing] KEEP_TEST_STACK=1: leaving the "${handle.profile}" stack running ` +
        `(stop it with: node deploy/local/bin/platform.mjs stop --profile ${handle.profile})\n`,
    );
    return;
  }
  await runPlatform(['stop', '--profile', handle.profile]);
}
