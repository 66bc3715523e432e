// Operation numbers, flags and limits of the contract, and the small helpers around them (io-map
// entries, piggy-backed area, fiemap extents, inode mode / device helpers).
import {
  DT_DIR,
  DT_LNK,
  DT_REG,
  devMajor,
  devMinor,
  dtypeToMode,
  encodeDev,
  FIEMAP_EXTENT_LAST,
  FiemapExtentLayout,
  fiemapFillNextExtent,
  IOM_T1_READ,
  IOM_T2_READ,
  IOM_UNMAP,
  IocIO,
  iocIOSize,
  iomEncode,
  iomEncodeBn,
  iomT1Bn,
  iomT1Pool,
  iomType,
  iomValue,
  isDir,
  isLnk,
  isReg,
  modeToDtype,
  opName,
  PIGY_BYTES,
  PIGY_MAX_IOM,
  pigyOffset,
  S_IFDIR,
  S_IFLNK,
  S_IFREG,
  ZUFS_FSC_ACL_ON,
  ZUFS_FSC_NIO_READS,
  ZUFS_FSC_NIO_WRITES,
  ZUFS_H_HAS_PIGY_PUT,
  ZUFS_H_INTR,
  ZUFS_LINK_MAX,
  ZUFS_M_DDBG_RD,
  ZUFS_M_DDBG_WR,
  ZUFS_M_EPHEMERAL,
  ZUFS_M_MOUNT,
  ZUFS_M_PEDANTIC,
  ZUFS_M_PRIVATE,
  ZUFS_M_REMOUNT,
  ZUFS_M_SILENT,
  ZUFS_M_UMOUNT,
  ZUFS_MAJOR_VERSION,
  ZUFS_MAX_SYMLINK,
  ZUFS_MAX_ZT_CHANNELS,
  ZUFS_MINOR_VERSION,
  ZUFS_MO_MAX,
  ZUFS_NAME_LEN,
  ZUFS_OP_LAYOUT,
  ZUFS_OPS,
  ZUFS_REM_WAS_RO,
  ZUFS_REM_WILL_RO,
  ZUFS_S_IMMUTABLE,
  ZUFS_SF_DATASYNC,
  ZUFS_SF_DONTNEED,
  ZUFS_WRITE_OP_SPACE,
  ZUS_API_MAP_MAX_PAGES,
  ZUS_API_MAP_MAX_SIZE,
  ziIsImmutable,
} from '@zufs/zuf-core/api';
import { describe, expect, it } from 'vitest';

describe('operations', () => {
  it('are numbered as in zus_api.h', () => {
    expect(ZUFS_OPS).toEqual({
      ZUFS_OP_NULL: 0,
      ZUFS_OP_BREAK: 1,
      ZUFS_OP_STATFS: 2,
      ZUFS_OP_SHOW_OPTIONS: 3,
      ZUFS_OP_NEW_INODE: 4,
      ZUFS_OP_FREE_INODE: 5,
      ZUFS_OP_EVICT_INODE: 6,
      ZUFS_OP_LOOKUP: 7,
      ZUFS_OP_ADD_DENTRY: 8,
      ZUFS_OP_REMOVE_DENTRY: 9,
      ZUFS_OP_RENAME: 10,
      ZUFS_OP_READDIR: 11,
      ZUFS_OP_CLONE: 12,
      ZUFS_OP_COPY: 13,
      ZUFS_OP_READ: 14,
      ZUFS_OP_PRE_READ: 15,
      ZUFS_OP_WRITE: 16,
      ZUFS_OP_MMAP_CLOSE: 17,
      ZUFS_OP_SETATTR: 19,
      ZUFS_OP_SYNC: 20,
      ZUFS_OP_FALLOCATE: 21,
      ZUFS_OP_LLSEEK: 22,
      ZUFS_OP_IOCTL: 23,
      ZUFS_OP_XATTR_GET: 24,
      ZUFS_OP_XATTR_SET: 25,
      ZUFS_OP_XATTR_LIST: 27,
      ZUFS_OP_FIEMAP: 28,
      ZUFS_OP_GET_MULTY: 29,
      ZUFS_OP_PUT_MULTY: 30,
      ZUFS_OP_NOOP: 31,
      ZUFS_OP_LOOKUP_PATH: 32,
    });
  });

  it('have names and a request struct each', () => {
    for (const [name, op] of Object.entries(ZUFS_OPS)) {
      expect(opName(op)).toBe(name);
      expect(ZUFS_OP_LAYOUT[op], name).toBeDefined();
      const off = ZUFS_OP_LAYOUT[op].off as Record<string, number>;
      expect(off['hdr.operation'] ?? off.operation, name).toBe(12); // every request starts with the header
    }
    expect(ZUFS_OP_LAYOUT[7].name).toBe('zufs_ioc_lookup');
    expect(ZUFS_OP_LAYOUT[29].name).toBe('zufs_ioc_IO');
    expect(opName(18)).toBe('ZUFS_OP_UNKNOWN(18)');
  });

  it('mount channel operations and flags', () => {
    expect([ZUFS_M_MOUNT, ZUFS_M_UMOUNT, ZUFS_M_REMOUNT, ZUFS_M_DDBG_RD, ZUFS_M_DDBG_WR]).toEqual([
      1, 2, 3, 4, 5,
    ]);
    expect([ZUFS_M_PEDANTIC, ZUFS_M_EPHEMERAL, ZUFS_M_SILENT, ZUFS_M_PRIVATE]).toEqual([1, 2, 4, 8]);
    expect([ZUFS_REM_WAS_RO, ZUFS_REM_WILL_RO]).toEqual([1, 2]);
    expect([ZUFS_FSC_ACL_ON, ZUFS_FSC_NIO_READS, ZUFS_FSC_NIO_WRITES]).toEqual([1, 2, 4]);
    expect([ZUFS_H_INTR, ZUFS_H_HAS_PIGY_PUT]).toEqual([1, 2]);
    expect([ZUFS_SF_DATASYNC, ZUFS_SF_DONTNEED]).toEqual([1, 0x100]);
  });

  it('limits and versions', () => {
    expect(ZUFS_LINK_MAX).toBe(32000);
    expect(ZUFS_NAME_LEN).toBe(255);
    expect(ZUFS_MAX_SYMLINK).toBe(4096);
    expect(ZUS_API_MAP_MAX_PAGES).toBe(1024);
    expect(ZUS_API_MAP_MAX_SIZE).toBe(4 * 1024 * 1024);
    expect(ZUFS_MAX_ZT_CHANNELS).toBe(4);
    expect(ZUFS_MO_MAX).toBe(512);
    expect([ZUFS_MAJOR_VERSION, ZUFS_MINOR_VERSION]).toEqual([1, 0]);
  });
});

describe('io-map and the piggy-backed area', () => {
  it('zufs_ioc_IO carries 13 io-map entries in place', () => {
    expect(ZUFS_WRITE_OP_SPACE).toBe(13);
    expect(iocIOSize(0)).toBe(120);
    expect(iocIOSize(ZUFS_WRITE_OP_SPACE)).toBe(IocIO.SIZE);
  });

  it('entries keep the type in the top byte', () => {
    const dv = new DataView(new ArrayBuffer(32));
    iomEncodeBn(dv, 0, 2 ** 40 + 9, 3);
    expect(iomType(dv, 0)).toBe(IOM_T1_READ);
    expect(iomT1Bn(dv, 0)).toBe(2 ** 40 + 9);
    expect(iomT1Pool(dv, 0)).toBe(3);
    expect(dv.getBigUint64(0, true)).toBe((BigInt(IOM_T1_READ) << 56n) | ((2n ** 40n + 9n) << 3n) | 3n);
    iomEncode(dv, 8, IOM_UNMAP, 12345);
    expect(iomType(dv, 8)).toBe(IOM_UNMAP);
    expect(iomValue(dv, 8)).toBe(12345);
    expect(iomT1Bn(dv, 8)).toBe(-1);
    iomEncode(dv, 16, IOM_T2_READ, 0);
    dv.setUint8(23, 200); // not a type
    expect(iomType(dv, 16)).toBe(0);
  });

  it('small and large block numbers encode alike (two stores, or the general path)', () => {
    const dv = new DataView(new ArrayBuffer(16));
    for (const [bn, pool] of [
      [0, 0],
      [1, 7],
      [2 ** 29 - 1, 5],
      [2 ** 29, 0],
      [2 ** 33 + 1, 2],
    ]) {
      iomEncodeBn(dv, 0, bn, pool);
      iomEncode(dv, 8, IOM_T1_READ, bn * 8 + pool);
      expect({ bn, same: dv.getBigUint64(0, true) === dv.getBigUint64(8, true) }).toEqual({ bn, same: true });
      expect(iomT1Bn(dv, 0)).toBe(bn);
      expect(iomT1Pool(dv, 0)).toBe(pool);
    }
    expect(() => iomEncodeBn(dv, 0, -1, 0)).toThrow(RangeError);
    expect(() => iomEncodeBn(dv, 0, 1.5, 0)).toThrow(RangeError);
    expect(() => iomEncodeBn(dv, 0, 1, 8)).toThrow(RangeError);
  });

  it('pigy area is the tail of the operation buffer', () => {
    expect(pigyOffset(64 * 1024)).toBe(64 * 1024 - PIGY_BYTES);
    expect(pigyOffset(4096) % 8).toBe(0);
    expect(PIGY_MAX_IOM).toBe((PIGY_BYTES - IocIO.iom_e) / 8);
    expect(iocIOSize(PIGY_MAX_IOM)).toBe(PIGY_BYTES);
    expect(() => pigyOffset(PIGY_BYTES)).toThrow(RangeError);
  });
});

describe('fiemap', () => {
  it('fills extents until the buffer is full or the last one', () => {
    const dv = new DataView(new ArrayBuffer(FiemapExtentLayout.SIZE * 2));
    const fi = { dv, at: 0, extentsMax: 2, extentsMapped: 0 };
    expect(fiemapFillNextExtent(fi, 0, 4096, 4096, 0)).toBe(0);
    expect(fiemapFillNextExtent(fi, 4096, 2 ** 40, 8192, FIEMAP_EXTENT_LAST)).toBe(1);
    expect(fi.extentsMapped).toBe(2);
    expect(FiemapExtentLayout.decode(dv, FiemapExtentLayout.SIZE)).toMatchObject({
      fe_logical: 4096,
      fe_physical: 2 ** 40,
      fe_length: 8192,
      fe_flags: FIEMAP_EXTENT_LAST,
    });
    expect(fiemapFillNextExtent(fi, 0, 0, 0, 0)).toBe(1);
    expect(fi.extentsMapped).toBe(2);
  });

  it('with extentsMax 0 only counts', () => {
    const fi = { dv: new DataView(new ArrayBuffer(0)), at: 0, extentsMax: 0, extentsMapped: 0 };
    expect(fiemapFillNextExtent(fi, 0, 0, 1, 0)).toBe(0);
    expect(fiemapFillNextExtent(fi, 1, 0, 1, FIEMAP_EXTENT_LAST)).toBe(1);
    expect(fi.extentsMapped).toBe(2);
  });
});

describe('inode helpers', () => {
  it('mode and directory entry types', () => {
    expect(isDir(S_IFDIR | 0o755)).toBe(true);
    expect(isReg(S_IFREG | 0o644)).toBe(true);
    expect(isLnk(S_IFLNK | 0o777)).toBe(true);
    expect(isDir(S_IFREG)).toBe(false);
    expect(modeToDtype(S_IFDIR | 0o755)).toBe(DT_DIR);
    expect(modeToDtype(S_IFREG)).toBe(DT_REG);
    expect(modeToDtype(S_IFLNK)).toBe(DT_LNK);
    expect(dtypeToMode(DT_DIR)).toBe(S_IFDIR);
  });

  it('device numbers as Linux encodes them', () => {
    expect(encodeDev(8, 1)).toBe(0x801);
    for (const [ma, mi] of [
      [0, 0],
      [8, 17],
      [259, 0x12345],
      [4095, 0xfffff],
    ]) {
      const dev = encodeDev(ma, mi);
      expect([devMajor(dev), devMinor(dev)]).toEqual([ma, mi]);
    }
  });

  it('immutable bit', () => {
    expect(ziIsImmutable(ZUFS_S_IMMUTABLE)).toBe(true);
    expect(ziIsImmutable(0)).toBe(false);
  });
});
