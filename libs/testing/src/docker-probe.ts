/**
 * Whether a container runtime answers, asked the way testcontainers finds one (DOCKER_HOST,
 * ~/.testcontainers.properties, the default and rootless sockets), so "answers" here means
 * testcontainers can use it. Bounded: a hanging socket must not hold up the test run.
 */
export async function dockerEngineAnswers(timeoutMs = 5000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const probe = import('testcontainers').then(
    async ({ getContainerRuntimeClient }) => {
      await getContainerRuntimeClient();
      return true;
    },
    () => false,
  );
  try {
    return await Promise.race([probe.catch(() => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
