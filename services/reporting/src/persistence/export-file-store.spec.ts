import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalExportFileStore } from './export-file-store';

describe('LocalExportFileStore', () => {
  let dir: string;
  let store: LocalExportFileStore;
  const exportId = '6f1c2d3e-0000-4000-8000-000000000001';

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'export-store-'));
    store = new LocalExportFileStore(dir);
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function read(stream: NodeJS.ReadableStream): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
    return Buffer.concat(chunks).toString('utf8');
  }

  it('shows a file only once it is finished, under the tenant’s directory', async () => {
    const writer = await store.create('tenant-a', exportId, 'csv');
    await writer.write('a,b\r\n');
    await writer.write('1,é\r\n');
    expect(await store.open('tenant-a', exportId, 'csv')).toBeNull();
    const bytes = Buffer.byteLength('a,b\r\n1,é\r\n');
    expect(await writer.finish()).toBe(bytes);
    const file = await store.open('tenant-a', exportId, 'csv');
    expect(file?.sizeBytes).toBe(bytes);
    expect(await read(file!.stream)).toBe('a,b\r\n1,é\r\n');
    expect(await readFile(join(dir, 'tenant-a', `${exportId}.csv`), 'utf8')).toBe('a,b\r\n1,é\r\n');
    // Another tenant's path does not reach it.
    expect(await store.open('tenant-b', exportId, 'csv')).toBeNull();
  });

  it('drops an aborted file, removes files and a whole tenant, and refuses unsafe names', async () => {
    const aborted = await store.create('tenant-a', exportId, 'json');
    await aborted.write('{"rows":[');
    await aborted.abort();
    expect(await readdir(join(dir, 'tenant-a'))).toEqual([]);

    const kept = await store.create('tenant-a', exportId, 'json');
    await kept.write('{}');
    await kept.finish();
    await store.remove('tenant-a', exportId, 'json');
    await store.remove('tenant-a', exportId, 'json');
    expect(await store.open('tenant-a', exportId, 'json')).toBeNull();

    await (await store.create('tenant-a', exportId, 'csv')).finish();
    await store.removeTenant('tenant-a');
    await store.removeTenant('tenant-a');
    expect(await readdir(dir)).toEqual([]);

    await expect(store.create('../etc', exportId, 'csv')).rejects.toThrow(/unsafe/);
    await expect(store.open('tenant-a', '../../x', 'csv')).rejects.toThrow(/unsafe/);
  });
});
