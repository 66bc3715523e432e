// Sizes and offsets: every layout against what gcc says of our C transcription of the same structs
// (test/fixtures/zus-api-layout.c; its output is kept in zus-api-layout.json, and rebuilt here when
// gcc is available), plus the offsets other packages rely on.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  IocHdr,
  IocHdrLayout,
  IocIO,
  IocLookup,
  IocMount,
  IocNewInode,
  RegisterFsInfo,
  ZUFS_INODE_SIZE,
  ZUS_API_LAYOUTS,
  ZusInode,
  ZusInodeLayout,
} from '@zufs/zuf-core/api';
import { describe, expect, it } from 'vitest';

const fixtures = fileURLToPath(new URL('./fixtures', import.meta.url));
const expected = JSON.parse(readFileSync(join(fixtures, 'zus-api-layout.json'), 'utf8')) as Record<
  string,
  Record<string, number>
>;

function hasGcc(): boolean {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('layouts match the C compiler', () => {
  it('every layout has a C transcription and no C struct is left over', () => {
    expect(ZUS_API_LAYOUTS.map((l) => l.name).sort()).toEqual(Object.keys(expected).sort());
  });

  for (const layout of ZUS_API_LAYOUTS) {
    it(`${layout.name}: sizeof and every offsetof`, () => {
      const c = expected[layout.name];
      expect(layout.SIZE).toBe(c.SIZE);
      expect({ ...layout.off }).toEqual(c);
    });
  }

  it.skipIf(!hasGcc())('the kept gcc output is what gcc prints today', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zus-api-layout-'));
    try {
      const exe = join(dir, 'layout');
      execFileSync('gcc', ['-std=gnu11', '-Wall', '-Werror', '-o', exe, join(fixtures, 'zus-api-layout.c')]);
      const out = JSON.parse(execFileSync(exe, { encoding: 'utf8' }));
      expect(out).toEqual(expected);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('offsets the other packages use', () => {
  it('IocHdr is exactly the contract', () => {
    expect(IocHdr).toEqual({
      SIZE: 24,
      err: 0,
      in_len: 4,
      out_max: 6,
      out_start: 8,
      out_len: 10,
      operation: 12,
      flags: 14,
      offset: 16,
      len: 20,
    });
    expect(IocHdrLayout.SIZE).toBe(24);
    expect(Object.isFrozen(IocHdr)).toBe(true);
  });

  it('zus_inode is 128 bytes with i_ino on the cache line at 64', () => {
    expect(ZusInodeLayout.SIZE).toBe(128);
    expect(ZUFS_INODE_SIZE).toBe(128);
    expect(ZusInode.i_ino).toBe(64);
    expect(ZusInode.i_mtime).toBe(40);
    expect(ZusInode.i_symlink).toBe(96);
    expect(ZusInode['i_dir.parent']).toBe(104);
  });

  it('mount and registry offsets', () => {
    expect(IocMount.SIZE).toBe(104);
    expect([IocMount.zus_zfi, IocMount.sb_id, IocMount.num_cpu, IocMount.num_channels]).toEqual([
      24, 40, 48, 50,
    ]);
    expect([IocMount.zus_sbi, IocMount.zus_ii, IocMount._zi, IocMount.fs_caps]).toEqual([56, 64, 72, 80]);
    expect([IocMount.mount_flags, IocMount.mount_options_len, IocMount.mount_options]).toEqual([
      88, 100, 104,
    ]);
    expect(IocMount.remount_flags).toBe(32);
    expect(RegisterFsInfo).toMatchObject({ SIZE: 56, fsname: 0, FS_magic: 16, s_maxbytes: 40, def_mode: 52 });
  });

  it('operation offsets', () => {
    expect([IocLookup.dir_ii, IocLookup.str, IocLookup._zi, IocLookup.zus_ii, IocLookup.SIZE]).toEqual([
      24, 32, 288, 296, 304,
    ]);
    expect([IocNewInode.zi, IocNewInode.str, IocNewInode.SIZE]).toEqual([24, 160, 440]);
    expect([IocIO['ziom.iom_n'], IocIO.iom_e, IocIO.SIZE]).toEqual([116, 120, 224]);
  });
});
