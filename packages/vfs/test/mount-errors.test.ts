// A mount that fails tells its caller why: the filesystem's errno and short reason travel from the
// mount thread (pmemfs's mount) through the mount channel's reply to mount(), as a Node-shaped error.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkfs, PMEMFS_TYPE, PmemDevice } from '@zufs/example-pmemfs';
import { mount } from '@zufs/vfs';
import { startServer, type ZusServer } from '@zufs/zus-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let server: ZusServer;
const dir = mkdtempSync(join(tmpdir(), 'zufs-mount-errors-'));
const image = join(dir, 'a.img');

beforeAll(async () => {
  server = await startServer({ zts: 1, channels: 2, filesystems: [PMEMFS_TYPE] });
  const dev = PmemDevice.createFile(image, 4 << 20);
  mkfs(dev);
  dev.close();
});
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function mountError(o: Parameters<typeof mount>[1]): NodeJS.ErrnoException {
  try {
    mount(server.root, o).umount();
  } catch (e) {
    return e as NodeJS.ErrnoException;
  }
  throw new Error('expected the mount to fail');
}

function thrown(fn: () => unknown): NodeJS.ErrnoException {
  try {
    fn();
  } catch (e) {
    return e as NodeJS.ErrnoException;
  }
  throw new Error('expected a throw');
}

describe('mount failures carry their cause', () => {
  it('a missing image is ENOENT: no such image IMG', () => {
    const e = mountError({ type: 'pmemfs', device: join(dir, 'none.img') });
    expect(e).toBeInstanceOf(Error);
    expect(e).toMatchObject({ code: 'ENOENT', errno: -2, syscall: 'mount' });
    expect(e.message).toBe(`ENOENT: no such image ${join(dir, 'none.img')}`);
  });

  it("an unknown option is EINVAL: pmemfs: unknown option 'bogus'; no image names what is missing", () => {
    const e = mountError({ type: 'pmemfs', device: image, options: 'bogus' });
    expect(e).toMatchObject({
      code: 'EINVAL',
      errno: -22,
      message: "EINVAL: pmemfs: unknown option 'bogus'",
    });
    expect(mountError({ type: 'pmemfs', options: 'bogus=1,image=/x' }).message).toMatch(
      /unknown option 'bogus'/,
    );
    const none = mountError({ type: 'pmemfs' });
    expect(none).toMatchObject({ code: 'EINVAL', errno: -22 });
    expect(none.message).toMatch(/^EINVAL: pmemfs: no image \(mount with image=PATH/);
    expect(mountError({ type: 'pmemfs', device: image, options: 'commit=soon' }).message).toBe(
      'EINVAL: pmemfs: commit=soon is not a number of seconds',
    );
  });

  it('an image in use is EBUSY naming its holder; an unknown type ENODEV; the image is usable after', () => {
    const fs = mount(server.root, { type: 'pmemfs', device: image });
    try {
      const e = mountError({ type: 'pmemfs', device: image });
      expect(e).toMatchObject({ code: 'EBUSY', errno: -16, syscall: 'mount' });
      expect(e.message).toMatch(
        new RegExp(`^EBUSY: ${image}: in use by .+ \\(pid ${process.pid}, this process\\)$`),
      );
    } finally {
      fs.umount();
    }
    expect(mountError({ type: 'nofs' })).toMatchObject({ code: 'ENODEV', errno: -19 });
    mount(server.root, { type: 'pmemfs', device: image }).umount();
  });

  it('remount says why it refuses', () => {
    const fs = mount(server.root, { type: 'pmemfs', device: image });
    try {
      const e = thrown(() => fs.remount('image=/elsewhere'));
      expect(e).toBeInstanceOf(Error);
      expect(e).toMatchObject({
        name: 'Error',
        code: 'EINVAL',
        errno: -22,
        syscall: 'mount',
        message: 'EINVAL: pmemfs remount: image cannot change (only commit=<seconds>)',
      });
      expect(thrown(() => fs.remount(`commit=${'1'.repeat(1 << 20)}`))).toMatchObject({
        code: 'E2BIG',
        errno: -7,
        syscall: 'mount',
        message: 'E2BIG: remount options too long',
      });
      fs.remount('commit=1');
    } finally {
      fs.umount();
    }
  });

  it('remount and umount of a mount that is gone are Node-shaped EINVAL saying so', () => {
    const fs = mount(server.root, { type: 'pmemfs', device: image });
    fs.umount();
    expect(thrown(() => fs.remount('commit=1'))).toMatchObject({
      name: 'Error',
      code: 'EINVAL',
      errno: -22,
      syscall: 'mount',
      message: 'EINVAL: not mounted',
    });
    expect(thrown(() => fs.umount())).toMatchObject({
      name: 'Error',
      code: 'EINVAL',
      errno: -22,
      syscall: 'umount',
      message: 'EINVAL: not mounted',
    });
  });
});
