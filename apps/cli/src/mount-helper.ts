#!/usr/bin/env node
/**
 * mount.fuse.zufs: the helper mount(8) runs for `mount -t fuse.zufs IMAGE DIR` and for an /etc/fstab
 * line of type fuse.zufs, as `/sbin/mount.fuse.zufs IMAGE DIR [-sfnv] [-o OPTIONS] [-t TYPE]`. It
 * mounts as `zufs mount --daemon` does and returns once the mount is there; the system's `umount DIR`
 * then ends the serving process. Exit codes as mount(8)'s: 0 mounted, 1 usage, 32 mount failure.
 */
import { runMount } from './commands/mount.js';
import { CliError, describe } from './errors.js';
import { applyOptions, defaultSettings } from './mount-options.js';

const USAGE = 'usage: mount.fuse.zufs IMAGE MOUNTPOINT [-sfnv] [-o OPTIONS]';

function fail(message: string, code: number): never {
  console.error(`mount.fuse.zufs: ${message}`);
  process.exit(code);
}

const positional: string[] = [];
const options: string[] = [];
let sloppy = false;
let fake = false;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '-o' || a === '-t' || a === '-N') {
    const v = argv[++i];
    if (v === undefined) fail(`${a} needs a value\n${USAGE}`, 1);
    if (a === '-o') options.push(v);
    else if (a === '-N') fail('-N (another mount namespace) is not supported', 1);
  } else if (a.startsWith('-o') && a.length > 2) options.push(a.slice(2));
  else if (/^-[sfnvrw]+$/.test(a)) {
    // -s sloppy: unknown options are ignored; -f fake: check, do not mount; -n (no mtab), -v: nothing to do.
    if (a.includes('s')) sloppy = true;
    if (a.includes('f')) fake = true;
    if (a.includes('r')) options.push('ro');
    if (a.includes('w')) options.push('rw');
  } else if (a.startsWith('-')) fail(`unknown flag ${a}\n${USAGE}`, 1);
  else positional.push(a);
}
if (positional.length !== 2) fail(USAGE, 1);

try {
  const settings = defaultSettings();
  for (const o of options) applyOptions(settings, o, sloppy);
  if (!fake) await runMount(positional[0], positional[1], settings, true, false);
} catch (e) {
  fail(describe(e, 'mount').replace(/^mount: /, ''), e instanceof CliError && e.exitCode === 2 ? 1 : 32);
}
