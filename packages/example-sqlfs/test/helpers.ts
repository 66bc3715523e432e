import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkfs } from '@zufs/example-sqlfs';
import { afterAll } from 'vitest';

/** A temporary directory, removed after the file's tests. */
export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sqlfs-test-'));
  afterAll(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

let n = 0;
/** A new SQLite volume in `dir`: its path. */
export async function sqliteVolume(dir: string, blockSize?: number): Promise<string> {
  const file = join(dir, `vol-${++n}.db`);
  await mkfs(file, { blockSize });
  return file;
}
