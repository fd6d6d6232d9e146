import { randomBytes } from 'node:crypto';
import type { ReadStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExportFormat } from '@tenantry/contracts';

/** One export file being written: chunks in order, then `finish` makes it visible. */
export interface ExportFileWriter {
  write(chunk: string): Promise<void>;
  /** Makes the file the export's (atomically) and says how many bytes it holds. */
  finish(): Promise<number>;
  /** Drops a half-written file. */
  abort(): Promise<void>;
}

/** A stored export file to serve. */
export interface StoredExportFile {
  readonly sizeBytes: number;
  readonly stream: ReadStream;
}

/**
 * Where export files live, keyed by tenant and export. The local directory is the one built;
 * object storage is another implementation of this interface (docs/adr/0015).
 */
export interface ExportFileStore {
  create(tenantId: string, exportId: string, format: ExportFormat): Promise<ExportFileWriter>;
  /** The file, or null when there is none (never written, expired, purged). */
  open(tenantId: string, exportId: string, format: ExportFormat): Promise<StoredExportFile | null>;
  /** Deletes the file; nothing when there is none. */
  remove(tenantId: string, exportId: string, format: ExportFormat): Promise<void>;
  /** Deletes every file of the tenant (offboarding). */
  removeTenant(tenantId: string): Promise<void>;
}

// Tenant ids are `[A-Za-z0-9_-]{1,64}` (withTenant refuses others) and export ids UUIDs, but a
// path is built from them, so both are checked again here.
const SAFE = /^[A-Za-z0-9_-]{1,64}$/;

function safe(part: string): string {
  if (!SAFE.test(part)) throw new Error(`unsafe export path part ${JSON.stringify(part)}`);
  return part;
}

const isMissing = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';

/** `<directory>/<tenant id>/<export id>.<format>`; written to a temporary name, then renamed. */
export class LocalExportFileStore implements ExportFileStore {
  constructor(readonly directory: string) {}

  private tenantDir(tenantId: string): string {
    return join(this.directory, safe(tenantId));
  }

  private pathOf(tenantId: string, exportId: string, format: ExportFormat): string {
    return join(this.tenantDir(tenantId), `${safe(exportId)}.${safe(format)}`);
  }

  async create(
    tenantId: string,
    exportId: string,
    format: ExportFormat,
  ): Promise<ExportFileWriter> {
    const path = this.pathOf(tenantId, exportId, format);
    await mkdir(this.tenantDir(tenantId), { recursive: true });
    const temporary = `${path}.${randomBytes(6).toString('hex')}.part`;
    const handle: FileHandle = await open(temporary, 'wx', 0o600);
    let bytes = 0;
    let closed = false;
    const close = async () => {
      if (!closed) {
        closed = true;
        await handle.close();
      }
    };
    return {
      async write(chunk) {
        const buffer = Buffer.from(chunk, 'utf8');
        bytes += buffer.length;
        await handle.write(buffer);
      },
      async finish() {
        await handle.sync();
        await close();
        await rename(temporary, path);
        return bytes;
      },
      async abort() {
        await close().catch(() => undefined);
        await rm(temporary, { force: true });
      },
    };
  }

  async open(
    tenantId: string,
    exportId: string,
    format: ExportFormat,
  ): Promise<StoredExportFile | null> {
    const path = this.pathOf(tenantId, exportId, format);
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
    const { size } = await handle.stat();
    return { sizeBytes: size, stream: handle.createReadStream() };
  }

  async remove(tenantId: string, exportId: string, format: ExportFormat): Promise<void> {
    await rm(this.pathOf(tenantId, exportId, format), { force: true });
  }

  async removeTenant(tenantId: string): Promise<void> {
    await rm(this.tenantDir(tenantId), { recursive: true, force: true });
  }
}
