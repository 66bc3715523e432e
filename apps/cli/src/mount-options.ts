/**
 * `zufs mount -o ...`: the options every FUSE filesystem and mount(8) take (`ro`, `allow_other`,
 * `default_permissions`, `attr_timeout=1`...), the generic ones mount(8) gives the kernel (`nosuid`,
 * `noatime`...), the ones that only mean something to mount(8) and fstab (`defaults`, `noauto`,
 * `nofail`...), and pmemfs's own (`commit=`), which pass through to the filesystem. Anything else is
 * a usage error naming the option.
 */
import { usageError } from './errors.js';

export interface MountSettings {
  readOnly: boolean;
  allowOther: boolean;
  defaultPermissions: boolean;
  readers: number;
  attrTimeout: number;
  entryTimeout: number;
  fsName?: string;
  maxWrite?: number;
  /** Pairs [as the image stores it, as this machine sees it]. */
  idMap: { uid: [number, number][]; gid: [number, number][] };
  /** Generic options for the kernel's mount (nosuid, nodev, noexec, noatime...). */
  mountFlags: string[];
  /** Options for pmemfs (`commit=5`), after `image=PATH`. */
  fsOptions: string[];
  /**
   * Where the plugin's code runs: in the reader threads (inline, one hop fewer per request), or in
   * the server's ZT threads (grid: a plugin that crashes takes a server thread, which the server
   * restarts with the volume's state checked, instead of a reader).
   */
  serve: 'inline' | 'grid';
}

export const defaultSettings = (): MountSettings => ({
  readOnly: false,
  allowOther: false,
  defaultPermissions: true,
  readers: 2,
  attrTimeout: 1,
  entryTimeout: 1,
  idMap: { uid: [], gid: [] },
  mountFlags: [],
  fsOptions: [],
  serve: 'inline',
});

/** Generic mount(8) flags the kernel applies to any mount. */
const KERNEL_FLAGS = new Set([
  'suid',
  'nosuid',
  'dev',
  'nodev',
  'exec',
  'noexec',
  'atime',
  'noatime',
  'diratime',
  'nodiratime',
  'relatime',
  'norelatime',
  'strictatime',
  'nostrictatime',
  'lazytime',
  'nolazytime',
  'sync',
  'async',
  'dirsync',
]);
/** Options for mount(8) and fstab only (when and by whom to mount): nothing to do here. */
const USERSPACE = new Set([
  'defaults',
  'auto',
  'noauto',
  'nofail',
  '_netdev',
  'user',
  'nouser',
  'users',
  'owner',
  'group',
]);
/** The filesystems' mount options a user may give (image= / device= is the IMAGE argument). */
const FS_OPTIONS = new Set(['commit', 'ttl']);

function number(name: string, v: string | undefined, min: number, max = Infinity, integer = false): number {
  const n = Number(v);
  if (v === undefined || v === '' || !(n >= min && n <= max) || (integer && !Number.isInteger(n)))
    throw usageError(
      `mount: option '${name}' needs ${integer ? 'an integer' : 'a number'} from ${min}${max === Infinity ? '' : ` to ${max}`} (got '${v ?? ''}')`,
    );
  return n;
}

/** `1000:0` -> [1000, 0] (as the image stores it, as this machine sees it). */
export function idPair(v: string, name: string): [number, number] {
  const m = /^(\d+):(\d+)$/.exec(v);
  if (!m) throw usageError(`mount: ${name} takes IMAGE_ID:HOST_ID, e.g. ${name} 1000:0 (got "${v}")`);
  return [Number(m[1]), Number(m[2])];
}

/**
 * Applies `-o a,b=c` to `s`. `sloppy` (mount -s): unknown options are ignored instead of refused.
 */
export function applyOptions(s: MountSettings, list: string, sloppy = false): MountSettings {
  for (const opt of list.split(',')) {
    if (!opt) continue;
    const eq = opt.indexOf('=');
    const key = eq < 0 ? opt : opt.slice(0, eq);
    const value = eq < 0 ? undefined : opt.slice(eq + 1);
    switch (key) {
      case 'ro':
        s.readOnly = true;
        break;
      case 'rw':
        s.readOnly = false;
        break;
      case 'allow_other':
        s.allowOther = true;
        break;
      case 'default_permissions':
        s.defaultPermissions = true;
        break;
      case 'attr_timeout':
        s.attrTimeout = number(key, value, 0);
        break;
      case 'entry_timeout':
        s.entryTimeout = number(key, value, 0);
        break;
      case 'readers':
        s.readers = number(key, value, 1, 16, true);
        break;
      case 'max_write':
        s.maxWrite = number(key, value, 4096, 2 ** 20, true);
        break;
      case 'fsname':
        if (!value) throw usageError("mount: option 'fsname' needs a value (fsname=NAME)");
        s.fsName = value;
        break;
      case 'serve':
        if (value !== 'inline' && value !== 'grid')
          throw usageError(`mount: option 'serve' takes inline or grid (got '${value ?? ''}')`);
        s.serve = value;
        break;
      case 'map_uid':
        s.idMap.uid.push(idPair(value ?? '', 'map_uid'));
        break;
      case 'map_gid':
        s.idMap.gid.push(idPair(value ?? '', 'map_gid'));
        break;
      default:
        if (KERNEL_FLAGS.has(opt)) s.mountFlags.push(opt);
        else if (USERSPACE.has(opt) || key.startsWith('x-') || key === 'comment') {
          // for mount(8) and systemd, not for the filesystem
        } else if (FS_OPTIONS.has(key)) s.fsOptions.push(opt);
        else if (!sloppy) throw usageError(`mount: unknown mount option '${opt}'`);
    }
  }
  return s;
}

/** The settings as one `-o` list: what a background mount is started with. */
export function optionString(s: MountSettings): string {
  const o = [s.readOnly ? 'ro' : 'rw', `readers=${s.readers}`, `attr_timeout=${s.attrTimeout}`];
  o.push(`entry_timeout=${s.entryTimeout}`);
  if (s.allowOther) o.push('allow_other');
  if (s.fsName) o.push(`fsname=${s.fsName}`);
  if (s.maxWrite) o.push(`max_write=${s.maxWrite}`);
  if (s.serve === 'grid') o.push('serve=grid');
  for (const [a, b] of s.idMap.uid) o.push(`map_uid=${a}:${b}`);
  for (const [a, b] of s.idMap.gid) o.push(`map_gid=${a}:${b}`);
  o.push(...s.mountFlags, ...s.fsOptions);
  return o.join(',');
}
