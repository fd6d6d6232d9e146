import { hash, verify } from '@node-rs/argon2';

/**
 * Argon2id (OWASP parameters: 19 MiB, 2 passes, 1 lane by default). Verifying an unknown account
 * against a dummy hash costs the same as a real check, so timing does not tell which emails exist.
 */
export class PasswordHasher {
  private dummy: Promise<string> | undefined;

  constructor(private readonly memoryCostKib: number = 19_456) {}

  hash(password: string): Promise<string> {
    return hash(password, { memoryCost: this.memoryCostKib, timeCost: 2, parallelism: 1 });
  }

  async verify(passwordHash: string | undefined, password: string): Promise<boolean> {
    if (passwordHash === undefined) {
      this.dummy ??= this.hash('a password nobody has');
      await verify(await this.dummy, password).catch(() => false);
      return false;
    }
    try {
      return await verify(passwordHash, password);
    } catch {
      return false;
    }
  }
}
