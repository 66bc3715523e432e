/**
 * `zufs mount IMAGE MOUNTPOINT` and `zufs umount MOUNTPOINT`: an image served to every program on the
 * machine through the kernel's FUSE (@zufs/fuse). The mount runs in the foreground until Ctrl-C,
 * SIGTERM or a umount; `--daemon` leaves it running in a detached process.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { imageHolder, type LockHolder, readLockHolder } from '@zufs/example-pmemfs';
import { fuseUnavailable } from '@zufs/fuse';
import { Command, Option } from 'commander';
import { CliError } from '../errors.js';
import { checkImage as checkZufsImage, holderName, openFailure } from '../image.js';
import { mountImage } from '../image-mount.js';

const exec = promisify(execFile);

/** /proc/mounts's octal escapes (`\040` for a space) undone. */
const unescapeField = (field: string) =>
  field.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(Number.parseInt(o, 8)));

/** The mounts /proc/mounts lists at `dir` (newest last): fstype and source (a zufs mount's image). */
function mountsOn(dir: string): { type: string; source: string }[] {
  try {
    return readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .map((l) => l.split(' '))
      .filter((f) => f.length > 2 && unescapeField(f[1]) === dir)
      .map((f) => ({ type: f[2], source: unescapeField(f[0]) }));
  } catch {
    return [];
  }
}

/** The fstypes mounted at `dir`, newest last. */
const mountsAt = (dir: string): string[] => mountsOn(dir).map((m) => m.type);

/** Refuses an image another process holds, naming it (what pmemfs's mount would say). */
function checkNotInUse(image: string): void {
  const h = imageHolder(image);
  if (h) throw new CliError(`mount: ${image}: in use by ${h.who} (pid ${h.pid})`);
}

/** How long umount waits for the serving process to commit the image and let go of it. */
const RELEASE_WAIT_MS = 30_000;

/** Waits until `holder` no longer holds `image`'s lock (false: still held after `ms`). */
async function released(image: string, holder: LockHolder, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    const now = readLockHolder(`${image}.lock`);
    if (now?.token !== holder.token || imageHolder(image) === null) return true;
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}

function checkMountpoint(dir: string): void {
  if (!existsSync(dir)) throw new CliError(`mount: ${dir}: mountpoint does not exist`);
  if (!statSync(dir).isDirectory()) throw new CliError(`mount: ${dir}: mountpoint is not a directory`);
  // A dead zufs mount there (ENOTCONN) is cleaned by mountFuse; anything else mounted is busy.
  const live = mountsAt(dir).filter((t) => t !== 'fuse.zufs');
  if (live.length) throw new CliError(`mount: ${dir}: mountpoint is busy (${live.at(-1)} is mounted there)`);
}

interface MountFlags {
  readOnly?: boolean;
  allowOther?: boolean;
  mapUid: string[];
  mapGid: string[];
  readers: string;
  attrTimeout: string;
  daemon?: boolean;
}

/** `--map-uid 1000:0` values: [as the image stores it, as this machine sees it]. */
function idPairs(values: string[], flag: string): [number, number][] {
  return values.map((v) => {
    const m = /^(\d+):(\d+)$/.exec(v);
    if (!m) throw new CliError(`mount: ${flag} takes IMAGE_ID:HOST_ID, e.g. ${flag} 1000:0 (got "${v}")`);
    return [Number(m[1]), Number(m[2])];
  });
}

const collect = (v: string, prev: string[]) => [...prev, v];

/** Waits until /proc/mounts shows a zufs mount at `dir`, or the child exits. */
async function waitMounted(dir: string, child: ReturnType<typeof spawn>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  let exited: number | null = null;
  child.once('exit', (code) => {
    exited = code ?? 1;
  });
  while (Date.now() < end) {
    if (mountsAt(dir).includes('fuse.zufs')) return;
    if (exited !== null) throw new CliError(`mount: the background mount exited (${exited}) before mounting`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new CliError(`mount: ${dir}: not mounted within ${ms / 1000} s`);
}

export function mountCommand(): Command {
  return new Command('mount')
    .description('mount an image in the kernel (FUSE) so every program can use it; needs root and /dev/fuse')
    .argument('<image>', 'a zufs image (made by zufs mkfs)')
    .argument('<mountpoint>', 'an existing, empty directory')
    .option('-r, --read-only', 'mount read-only')
    .option('--allow-other', 'let users other than root use the mount')
    .addOption(new Option('--readers <n>', 'reader threads serving the kernel').default('2'))
    .addOption(new Option('--attr-timeout <seconds>', 'how long the kernel caches attributes').default('1'))
    .addOption(
      new Option('--map-uid <image:host>', 'show files of uid IMAGE as uid HOST (and back); repeatable')
        .argParser(collect)
        .default([]),
    )
    .addOption(
      new Option('--map-gid <image:host>', 'the same for groups; repeatable').argParser(collect).default([]),
    )
    .option('-d, --daemon', 'detach: leave the mount running in the background and return')
    .addHelpText(
      'after',
      '\nExamples:\n  zufs mount fs.img /mnt/z            # foreground: Ctrl-C unmounts\n' +
        '  zufs mount --daemon fs.img /mnt/z   # background; later: zufs umount /mnt/z\n' +
        "  zufs mount --map-uid 1000:0 --map-gid 1000:0 fs.img /mnt/z   # files of 1000 show as root's\n",
    )
    .action(async (imageArg: string, dirArg: string, o: MountFlags) => {
      const image = resolve(imageArg);
      const dir = resolve(dirArg);
      const why = fuseUnavailable();
      if (why) throw new CliError(`mount: ${why.message}`);
      checkZufsImage(image, 'mount');
      checkNotInUse(image);
      checkMountpoint(dir);
      const readers = Number(o.readers);
      const attrTimeout = Number(o.attrTimeout);
      if (!Number.isInteger(readers) || readers < 1 || readers > 16)
        throw new CliError('mount: --readers must be an integer from 1 to 16');
      if (!(attrTimeout >= 0)) throw new CliError('mount: --attr-timeout must be a number of seconds >= 0');
      const idMap = { uid: idPairs(o.mapUid, '--map-uid'), gid: idPairs(o.mapGid, '--map-gid') };
      if (o.daemon) {
        const args = [
          process.argv[1],
          'mount',
          image,
          dir,
          '--readers',
          o.readers,
          '--attr-timeout',
          o.attrTimeout,
        ];
        if (o.readOnly) args.push('--read-only');
        if (o.allowOther) args.push('--allow-other');
        for (const v of o.mapUid) args.push('--map-uid', v);
        for (const v of o.mapGid) args.push('--map-gid', v);
        const child = spawn(process.execPath, args, { detached: true, stdio: 'ignore' });
        await waitMounted(dir, child, 20_000);
        child.unref();
        console.log(`mounted ${image} on ${dir} (pid ${child.pid}); unmount with: zufs umount ${dir}`);
        return;
      }
      // pmemfs's mount locks the image (in use by "zufs mount DIR") until the unmount commits it.
      const m = await mountImage({
        image,
        mountpoint: dir,
        options: `holder=${holderName(`mount ${dir}`)}`,
        readers,
        attrTimeout,
        readOnly: o.readOnly,
        allowOther: o.allowOther,
        idMap,
      }).catch((e) => {
        throw openFailure(e, 'mount');
      });
      console.log(`mounted ${image} on ${dir}; unmount with Ctrl-C or: zufs umount ${dir}`);
      await m.done;
      console.log(`unmounted ${dir}`);
    });
}

export function umountCommand(): Command {
  return new Command('umount')
    .description(
      'unmount a zufs mount; returns once the serving process has committed the image and let go of it',
    )
    .argument('<mountpoint>', 'where the image is mounted')
    .option('-l, --lazy', 'detach now even if busy (the mount goes when its last user does)')
    .addHelpText('after', '\nExample:\n  zufs umount /mnt/z && zufs fsck fs.img\n')
    .action(async (dirArg: string, o: { lazy?: boolean }) => {
      const dir = resolve(dirArg);
      const mounts = mountsOn(dir);
      const top = mounts.at(-1);
      if (!top) throw new CliError(`umount: ${dir}: not mounted`);
      if (top.type !== 'fuse.zufs') throw new CliError(`umount: ${dir}: not a zufs mount (${top.type})`);
      if (process.getuid?.() !== 0) throw new CliError('umount: needs root');
      // The mount's source is its image: its lock says which process serves it.
      const image = top.source;
      const holder = imageHolder(image);
      try {
        await exec('umount', o.lazy ? ['-l', dir] : [dir]);
      } catch (e) {
        const msg = String((e as { stderr?: string }).stderr ?? e).trim();
        if (/busy/i.test(msg)) throw new CliError(`umount: ${dir}: mountpoint is busy (retry with --lazy)`);
        throw new CliError(`umount: ${dir}: ${msg.split('\n')[0]}`);
      }
      if (!holder) {
        console.log(`unmounted ${dir}`);
        return;
      }
      const served = `${holder.who} (pid ${holder.pid})`;
      if (o.lazy) {
        // Detached: the kernel ends the mount when its last user closes, and only then is it released.
        if (await released(image, holder, 1000)) console.log(`unmounted ${dir}; ${image} is released`);
        else
          console.log(
            `detached ${dir}: still in use; ${image} is released by ${served} when the last program using the mount closes its files`,
          );
        return;
      }
      if (!(await released(image, holder, RELEASE_WAIT_MS)))
        throw new CliError(
          `umount: ${dir} is unmounted, but ${image} is still held by ${served} after ${RELEASE_WAIT_MS / 1000} s (still committing? it is in use until that process lets go)`,
        );
      console.log(`unmounted ${dir}; ${image} is released`);
    });
}
