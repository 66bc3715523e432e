/**
 * `zufs mount IMAGE MOUNTPOINT` and `zufs umount MOUNTPOINT`: an image served to every program on the
 * machine through the kernel's FUSE (@zufs/fuse). The mount runs in the foreground until Ctrl-C,
 * SIGTERM or a umount; `--daemon` leaves it running in a detached process. SIGHUP, or `zufs reload
 * MOUNTPOINT`, reloads its filesystem modules without unmounting (reload.ts).
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { imageHolder, type LockHolder, readLockHolder } from '@zufs/example-pmemfs';
import { fuseUnavailable } from '@zufs/fuse';
import { Command, InvalidArgumentError, Option } from 'commander';
import { CliError } from '../errors.js';
import { holderName, openFailure } from '../image.js';
import { checkImage as checkZufsImage } from '../image-check.js';
import { mountImage } from '../image-mount.js';
import { applyOptions, defaultSettings, idPair, type MountSettings, optionString } from '../mount-options.js';
import { askReload, reloadOnHangup } from '../reload.js';
import { shownVolume, volumeDevice, volumeType } from '../volume-type.js';

/** The zufs command itself: a background mount runs it again (also from the mount helper). */
const BIN = fileURLToPath(new URL('../bin.js', import.meta.url));

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

/** Refuses a mountpoint that cannot take the mount; `shown` is the path as the user typed it. */
function checkMountpoint(dir: string, shown: string): void {
  if (!existsSync(dir)) throw new CliError(`mount: ${shown}: mountpoint does not exist`);
  if (!statSync(dir).isDirectory()) throw new CliError(`mount: ${shown}: mountpoint is not a directory`);
  // A dead zufs mount there (ENOTCONN) is cleaned by mountFuse; anything else mounted is busy.
  const live = mountsAt(dir).filter((t) => t !== 'fuse.zufs');
  if (live.length)
    throw new CliError(`mount: ${shown}: mountpoint is busy (${live.at(-1)} is mounted there)`);
}

interface MountFlags {
  options: string[];
  readOnly?: boolean;
  allowOther?: boolean;
  mapUid: [number, number][];
  mapGid: [number, number][];
  readers?: number;
  attrTimeout?: number;
  daemon?: boolean;
}

const collect =
  <T>(parse: (v: string) => T) =>
  (v: string, prev: T[]) => [...prev, parse(v)];
/** A commander parser: a bad value is a usage error naming the option (exit 2). */
function parsed<T>(parse: (v: string) => T | undefined, what: string) {
  return (v: string): T => {
    const r = parse(v);
    if (r === undefined) throw new InvalidArgumentError(what);
    return r;
  };
}
const readersArg = parsed(
  (v) => (/^\d+$/.test(v) && +v >= 1 && +v <= 16 ? +v : undefined),
  'An integer from 1 to 16.',
);
const secondsArg = parsed((v) => (v !== '' && +v >= 0 ? +v : undefined), 'A number of seconds >= 0.');
const idArg = (name: string) =>
  parsed(
    (v) => (/^\d+:\d+$/.test(v) ? idPair(v, name) : undefined),
    `IMAGE_ID:HOST_ID, e.g. ${name} 1000:0.`,
  );

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

/** The -o lists, then the long options (aliases of -o ones), as one set of settings. */
export function settingsOf(o: MountFlags, sloppy = false): MountSettings {
  const s = defaultSettings();
  for (const list of o.options) applyOptions(s, list, sloppy);
  if (o.readOnly) s.readOnly = true;
  if (o.allowOther) s.allowOther = true;
  if (o.readers !== undefined) s.readers = o.readers;
  if (o.attrTimeout !== undefined) s.attrTimeout = o.attrTimeout;
  s.idMap.uid.push(...o.mapUid);
  s.idMap.gid.push(...o.mapGid);
  return s;
}

/**
 * Mounts `imageArg` on `dirArg`: in this process until a signal or a umount, or (`daemon`) in a
 * detached one, returning once the mount is there. What `zufs mount` and the mount helper run.
 */
export async function runMount(
  imageArg: string,
  dirArg: string,
  s: MountSettings,
  daemon: boolean,
  /** Say what was mounted (a mount helper is silent, as mount(8) is). */
  announce = true,
): Promise<void> {
  const type = volumeType(imageArg);
  const image = volumeDevice(imageArg);
  const dir = resolve(dirArg);
  const why = fuseUnavailable();
  if (why) throw new CliError(`mount: ${why.message}`);
  // An sqlfs volume is shared by design (a database: no lock to take), and its mount checks it.
  if (type === 'pmemfs') {
    checkZufsImage(image, 'mount');
    checkNotInUse(image);
  }
  checkMountpoint(dir, dirArg);
  if (daemon) {
    const args = [BIN, 'mount', image, dir, '-o', optionString(s)];
    const child = spawn(process.execPath, args, { detached: true, stdio: 'ignore' });
    await waitMounted(dir, child, 20_000);
    child.unref();
    if (announce)
      console.log(
        `mounted ${shownVolume(image)} on ${dir} (pid ${child.pid}); unmount with: zufs umount ${dir}`,
      );
    return;
  }
  // pmemfs's mount locks the image (in use by "zufs mount DIR") until the unmount commits it.
  const m = await mountImage({
    image,
    type,
    mountpoint: dir,
    options: [...(type === 'pmemfs' ? [`holder=${holderName(`mount ${dir}`)}`] : []), ...s.fsOptions].join(
      ',',
    ),
    readers: s.readers,
    grid: s.serve === 'grid',
    attrTimeout: s.attrTimeout,
    entryTimeout: s.entryTimeout,
    readOnly: s.readOnly,
    allowOther: s.allowOther,
    defaultPermissions: s.defaultPermissions,
    fsName: s.fsName,
    maxWrite: s.maxWrite,
    mountFlags: s.mountFlags,
    idMap: s.idMap,
  }).catch((e) => {
    throw openFailure(e, 'mount');
  });
  console.log(`mounted ${shownVolume(image)} on ${dir}; unmount with Ctrl-C or: zufs umount ${dir}`);
  const stopReloads = reloadOnHangup(m.server, (line) => console.log(line));
  // Ends after Ctrl-C, SIGTERM, zufs umount or the system's umount: the connection ends, the image is
  // written back and unlocked, and the server stopped (mountImage).
  await m.done;
  stopReloads();
  console.log(`unmounted ${dir}`);
}

export function mountCommand(): Command {
  return new Command('mount')
    .description('mount an image in the kernel (FUSE) so every program can use it; needs root and /dev/fuse')
    .argument('<image>', 'a zufs image or sqlfs volume (made by zufs mkfs; sqlfs: a file or postgres:// URL)')
    .argument('<mountpoint>', 'an existing, empty directory')
    .addOption(
      new Option('-o, --options <opts>', 'mount options, comma-separated (repeatable; see below)')
        .argParser((v: string, prev: string[]) => [...prev, v])
        .default([]),
    )
    .option('-r, --read-only', 'mount read-only (-o ro)')
    .option('--allow-other', 'let users other than root use the mount (-o allow_other)')
    .addOption(
      new Option('--readers <n>', 'reader threads serving the kernel (-o readers=N)').argParser(readersArg),
    )
    .addOption(
      new Option(
        '--attr-timeout <seconds>',
        'how long the kernel caches attributes (-o attr_timeout=S)',
      ).argParser(secondsArg),
    )
    .addOption(
      new Option('--map-uid <image:host>', 'show files of uid IMAGE as uid HOST (and back); repeatable')
        .argParser(collect(idArg('--map-uid')))
        .default([]),
    )
    .addOption(
      new Option('--map-gid <image:host>', 'the same for groups; repeatable')
        .argParser(collect(idArg('--map-gid')))
        .default([]),
    )
    .option('-d, --daemon', 'detach: leave the mount running in the background and return')
    .addHelpText(
      'after',
      '\nMount options (-o):\n' +
        '  ro, rw                   read-only, read-write (default)\n' +
        '  allow_other              users other than root may use the mount\n' +
        '  default_permissions      the kernel checks modes (always on)\n' +
        '  attr_timeout=S           seconds the kernel caches attributes (default 1)\n' +
        '  entry_timeout=S          seconds the kernel caches names (default 1)\n' +
        '  readers=N                reader threads, 1 to 16 (default 2)\n' +
        '  max_write=BYTES          largest write the kernel sends (default and at most 1 MiB)\n' +
        '  serve=inline|grid        run the plugin in the readers (default) or in server threads,\n' +
        '                           which the server restarts if the plugin crashes\n' +
        '  fsname=NAME              the source shown by df and /proc/mounts (default the image)\n' +
        '  map_uid=I:H, map_gid=I:H ids of the image shown as ids of the host\n' +
        '  nosuid, nodev, noexec, noatime...   as for any mount\n' +
        '  commit=S                 pmemfs: background commit interval (default 5, 0: off)\n' +
        '  ttl=S                    sqlfs: seconds its entry and attribute caches last (default 1, 0: none)\n' +
        '  defaults, noauto, nofail, _netdev, x-*   for mount(8) and fstab; ignored here\n' +
        '\nExamples:\n  zufs mount fs.img /mnt/z            # foreground: Ctrl-C unmounts\n' +
        '  zufs mount --daemon fs.img /mnt/z   # background; later: zufs umount /mnt/z (or umount /mnt/z)\n' +
        '  zufs mount -o ro,allow_other,attr_timeout=5 fs.img /mnt/z\n' +
        "  zufs mount --map-uid 1000:0 --map-gid 1000:0 fs.img /mnt/z   # files of 1000 show as root's\n" +
        '  mount -t fuse.zufs fs.img /mnt/z    # with the mount helper installed (see the README)\n',
    )
    .action((imageArg: string, dirArg: string, o: MountFlags) =>
      runMount(imageArg, dirArg, settingsOf(o), !!o.daemon),
    );
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

/** How long `zufs reload` waits for the serving process to say how its reload went. */
const RELOAD_WAIT_MS = 60_000;

export function reloadCommand(): Command {
  return new Command('reload')
    .description(
      'reload the filesystem modules of the process serving a zufs mount, without unmounting (as SIGHUP to it)',
    )
    .argument('<mountpoint>', 'where the image is mounted')
    .addHelpText(
      'after',
      '\nOperations wait while the threads restart on the new code; applications see no error. A reload that\n' +
        'would change a mounted format is refused (exit 1) and the old code serves on.\n' +
        '\nExample:\n  zufs reload /mnt/z\n',
    )
    .action(async (dirArg: string) => {
      const dir = resolve(dirArg);
      const top = mountsOn(dir).at(-1);
      if (!top) throw new CliError(`reload: ${dir}: not mounted`);
      if (top.type !== 'fuse.zufs') throw new CliError(`reload: ${dir}: not a zufs mount (${top.type})`);
      if (process.getuid?.() !== 0) throw new CliError('reload: needs root');
      // The mount's source is its image: its lock names the process serving it.
      const holder = imageHolder(top.source);
      if (holder?.who !== holderName(`mount ${dir}`))
        throw new CliError(
          `reload: ${dir}: no zufs mount process holds ${top.source}` +
            (holder
              ? ` (${holder.who}, pid ${holder.pid} does)`
              : ' (an sqlfs volume has no lock: send SIGHUP to its zufs mount)'),
        );
      const s = await askReload(holder.pid, RELOAD_WAIT_MS);
      if (!s)
        throw new CliError(
          `reload: ${dir}: no answer from pid ${holder.pid} within ${RELOAD_WAIT_MS / 1000} s`,
        );
      if (!s.ok) throw new CliError(`reload: ${dir}: refused: ${s.message} (the old code serves on)`);
      console.log(`${dir}: ${s.message} (pid ${holder.pid})`);
    });
}
