/**
 * Files inside an image, without a kernel mount (through @zufs/vfs): ls, stat, cat, get, put, cp,
 * rm, mkdir, mv, ln. Paths in an image are written IMAGE:/path.
 */
import * as hostFs from 'node:fs';
import { posix } from 'node:path';
import { Command } from 'commander';
import { CliError, type ShownError, usageError } from '../errors.js';
import { type ImageSession, openImage, parseSpec } from '../image.js';
import { type Entry, entryJson, longLines, modeString, typeOf } from '../listing.js';
import { progressBar } from '../progress.js';

/** The node:fs calls a copy needs; both node:fs and a zufs face have them. */
type AnyFs = Pick<
  typeof hostFs,
  | 'lstatSync'
  | 'statSync'
  | 'readdirSync'
  | 'mkdirSync'
  | 'readFileSync'
  | 'writeFileSync'
  | 'readlinkSync'
  | 'symlinkSync'
  | 'chmodSync'
  | 'utimesSync'
  | 'lutimesSync'
  | 'existsSync'
  | 'unlinkSync'
  | 'rmSync'
  | 'renameSync'
  | 'linkSync'
>;

/** Opens every image named by `specs` once (a command may name the same image twice). */
async function sessions(specs: string[], cmd: string): Promise<Map<string, ImageSession>> {
  const m = new Map<string, ImageSession>();
  try {
    for (const s of specs) {
      const { image } = parseSpec(s);
      if (image && !m.has(image)) m.set(image, await openImage(image, cmd));
    }
  } catch (e) {
    await closeAll(m);
    throw e;
  }
  return m;
}

async function closeAll(m: Map<string, ImageSession>): Promise<void> {
  for (const s of m.values()) await s.close();
}

/** The image part of a spec as the user typed it (`fs.img` of `fs.img:/a`), or '' for a host path. */
const typedImage = (spec: string) => (parseSpec(spec).image ? spec.slice(0, spec.indexOf(':/')) : '');

/**
 * `fs` whose calls' errors name their paths as the user writes them: `prefix` (`IMG:`) before an
 * image's path, so a message says `IMG:/a`, not `/a`.
 */
function labelled(fs: AnyFs, prefix: string): AnyFs {
  if (!prefix) return fs;
  return new Proxy(fs, {
    get(target, key) {
      const v = Reflect.get(target, key);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        try {
          return v.apply(target, args);
        } catch (e) {
          const err = e as ShownError;
          if (err?.shown === undefined && (typeof err?.path === 'string' || typeof args[0] === 'string')) {
            // A read of a directory names no path (EISDIR, as node:fs): the call's own path it is.
            err.shown = prefix + (err.path ?? (args[0] as string));
            if (typeof err.dest === 'string') err.shownDest = prefix + err.dest;
          }
          throw e;
        }
      };
    },
  });
}

interface Side {
  fs: AnyFs;
  path: string;
  image?: string;
  /** How the user names `p` (a path on this side): `IMG:/p` in an image, `p` on the host. */
  shown(p: string): string;
}

/** Runs `fn` with the images `specs` name open; `side(spec)` gives the fs and path of a spec. */
async function withSides<T>(
  specs: string[],
  cmd: string,
  fn: (side: (spec: string) => Side) => T | Promise<T>,
): Promise<T> {
  const m = await sessions(specs, cmd);
  try {
    return await fn((spec) => {
      const { image, path } = parseSpec(spec);
      const prefix = image ? `${typedImage(spec)}:` : '';
      const fs = image ? labelled(m.get(image)!.fs as unknown as AnyFs, prefix) : hostFs;
      return { fs, path, image, shown: (p) => prefix + p };
    });
  } finally {
    await closeAll(m);
  }
}

function imageOnly(spec: string, cmd: string): void {
  if (!parseSpec(spec).image) throw usageError(`${cmd}: ${spec}: write paths in an image as IMAGE:/path`);
}

/** Counts files and bytes under `p` (for the progress bar). */
function measure(fs: AnyFs, p: string): { files: number; bytes: number } {
  const st = fs.lstatSync(p);
  if (!st.isDirectory()) return { files: 1, bytes: st.size };
  let files = 1;
  let bytes = 0;
  for (const name of fs.readdirSync(p) as string[]) {
    const r = measure(fs, posix.join(p, name));
    files += r.files;
    bytes += r.bytes;
  }
  return { files, bytes };
}

interface CopyOptions {
  readonly recursive: boolean;
  readonly tick: () => void;
  /** On ENOSPC, keep the file cut short (and say how much of it was written). */
  readonly keepPartial: boolean;
  readonly cmd: string;
  /** How the destination side is named in messages ("fs.img:" for an image, "" for the host). */
  readonly where: string;
}

/**
 * A file's copy that ran out of space: by default the part written goes, so nothing is left half
 * made without a word; --keep-partial keeps it. Either way the message says which and how much.
 */
function partialCopy(e: unknown, dst: AnyFs, d: string, size: number, o: CopyOptions): never {
  if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  const full = `no space left on device${o.where ? ' (the image is full)' : ''}`;
  let written = 0;
  try {
    written = dst.statSync(d).size;
  } catch {
    throw new CliError(`${o.cmd}: ${o.where}${d}: ${full}; nothing was written`);
  }
  const part = `${written} of ${size} bytes written`;
  if (o.keepPartial) throw new CliError(`${o.cmd}: ${o.where}${d}: ${full}; kept the partial file (${part})`);
  dst.unlinkSync(d);
  throw new CliError(
    `${o.cmd}: ${o.where}${d}: ${full}; removed the partial file (${part}; --keep-partial keeps it)`,
  );
}

/** Copies a file, symlink or (with `recursive`) a tree, keeping modes, mtimes and symlinks. */
function copy(src: AnyFs, s: string, dst: AnyFs, d: string, o: CopyOptions): void {
  const st = src.lstatSync(s);
  if (st.isDirectory()) {
    if (!o.recursive) throw Object.assign(new Error('EISDIR'), { code: 'EISDIR', path: s });
    if (!dst.existsSync(d)) dst.mkdirSync(d);
    for (const name of src.readdirSync(s) as string[])
      copy(src, posix.join(s, name), dst, posix.join(d, name), o);
    dst.chmodSync(d, st.mode & 0o7777);
    dst.utimesSync(d, st.atimeMs / 1000, st.mtimeMs / 1000);
  } else if (st.isSymbolicLink()) {
    dst.symlinkSync(src.readlinkSync(s) as string, d);
    dst.lutimesSync(d, st.atimeMs / 1000, st.mtimeMs / 1000);
  } else if (st.isFile()) {
    try {
      dst.writeFileSync(d, src.readFileSync(s));
    } catch (e) {
      partialCopy(e, dst, d, st.size, o);
    }
    dst.chmodSync(d, st.mode & 0o7777);
    dst.utimesSync(d, st.atimeMs / 1000, st.mtimeMs / 1000);
  }
  o.tick();
}

/** cp/get/put: SRC to DST (into DST when it is an existing directory, as cp does). */
async function copyCmd(
  srcSpec: string,
  dstSpec: string,
  recursive: boolean,
  cmd: string,
  keepPartial = false,
): Promise<void> {
  await withSides([srcSpec, dstSpec], cmd, (side) => {
    const src = side(srcSpec);
    const dst = side(dstSpec);
    let target = dst.path;
    if (dst.fs.existsSync(target) && dst.fs.statSync(target).isDirectory())
      target = posix.join(target, posix.basename(src.path));
    const { files, bytes } = measure(src.fs, src.path);
    const bar = progressBar(
      files,
      `${cmd} [{bar}] {value}/{total} files`,
      files > 100 || bytes > 64 * 2 ** 20,
    );
    try {
      const where = dst.image === undefined ? '' : `${typedImage(dstSpec)}:`;
      copy(src.fs, src.path, dst.fs, target, {
        recursive,
        tick: () => bar?.increment(),
        keepPartial,
        cmd,
        where,
      });
    } catch (e) {
      const err = e as ShownError;
      if (err?.code === 'EISDIR' && err.path === src.path) err.shown ??= src.shown(src.path);
      throw e;
    } finally {
      bar?.stop();
    }
  });
}

export function fileCommands(): Command[] {
  const ls = new Command('ls')
    .description('list a directory in an image, or a file or symlink itself')
    .argument('<spec>', 'IMAGE:/path')
    .option('-l', 'long listing: mode, links, owner, group, size, mtime, and -> target of a symlink')
    .option('-a', 'also names starting with a dot, and . and ..')
    .option('-h', 'with -l: sizes in K, M, G (powers of 1024)')
    .option('-R', 'recurse into directories')
    .option('--json', 'print the entries as JSON')
    .helpOption('--help', 'display help for command')
    .addHelpText(
      'after',
      '\nExamples:\n  zufs ls fs.img:/\n  zufs ls -lah fs.img:/docs\n  zufs ls -lR fs.img:/docs --json\n',
    )
    .action(
      async (spec: string, o: { l?: boolean; a?: boolean; h?: boolean; R?: boolean; json?: boolean }) => {
        imageOnly(spec, 'ls');
        await withSides([spec], 'ls', (side) => {
          const { fs, path } = side(spec);
          const entry = (name: string, p: string): Entry => {
            const st = fs.lstatSync(p);
            return { name, st, target: st.isSymbolicLink() ? (fs.readlinkSync(p) as string) : undefined };
          };
          const out: Entry[] = [];
          const walk = (dir: string, prefix: string) => {
            const names = (fs.readdirSync(dir) as string[]).sort();
            if (o.a) out.push(entry(`${prefix}.`, dir), entry(`${prefix}..`, posix.join(dir, '..')));
            for (const name of names) {
              if (!o.a && name.startsWith('.')) continue;
              const e = entry(prefix + name, posix.join(dir, name));
              out.push(e);
              if (o.R && e.st.isDirectory()) walk(posix.join(dir, name), `${prefix}${name}/`);
            }
          };
          // As ls: a directory operand lists what it holds; a file or symlink lists itself, except a
          // symlink to a directory without -l, which lists the directory.
          const top = fs.lstatSync(path);
          const listDir =
            top.isDirectory() || (top.isSymbolicLink() && !o.l && fs.statSync(path).isDirectory());
          if (listDir) walk(path, '');
          else out.push(entry(spec, path));
          if (o.json) console.log(JSON.stringify(out.map(entryJson), null, 2));
          else if (o.l) {
            if (listDir) {
              const blocks = out.reduce((n, e) => n + (e.st.blocks ?? Math.ceil(e.st.size / 512)), 0);
              console.log(`total ${Math.ceil(blocks / 2)}`);
            }
            for (const line of longLines(out, !!o.h)) console.log(line);
          } else for (const e of out) console.log(e.name);
        });
      },
    );

  const stat = new Command('stat')
    .description('show the attributes of a path in an image (a symlink itself, with its target)')
    .argument('<spec>', 'IMAGE:/path')
    .option('--json', 'print as JSON')
    .addHelpText('after', '\nExample:\n  zufs stat fs.img:/docs/a.txt --json\n')
    .action(async (spec: string, o: { json?: boolean }) => {
      imageOnly(spec, 'stat');
      await withSides([spec], 'stat', (side) => {
        const { fs, path } = side(spec);
        const st = fs.lstatSync(path);
        const target = st.isSymbolicLink() ? (fs.readlinkSync(path) as string) : undefined;
        const e = entryJson({ name: spec, st, target });
        if (o.json) console.log(JSON.stringify(e, null, 2));
        else
          console.log(
            [
              `  file ${spec}${target === undefined ? '' : ` -> ${target}`}`,
              `  type ${typeOf(st)}  size ${st.size}  links ${st.nlink}  inode ${st.ino}`,
              `  mode ${e.mode} (${modeString(st.mode)})  uid ${st.uid}  gid ${st.gid}`,
              `access ${e.atime}`,
              `modify ${e.mtime}`,
              `change ${e.ctime}`,
            ].join('\n'),
          );
      });
    });

  const cat = new Command('cat')
    .description('print files of an image')
    .argument('<specs...>', 'IMAGE:/path ...')
    .addHelpText('after', '\nExample:\n  zufs cat fs.img:/etc/motd\n')
    .action(async (specs: string[]) => {
      for (const s of specs) imageOnly(s, 'cat');
      await withSides(specs, 'cat', (side) => {
        for (const s of specs) {
          const { fs, path } = side(s);
          process.stdout.write(fs.readFileSync(path));
        }
      });
    });

  const cp = new Command('cp')
    .description('copy files or trees between images and the host (either side may be IMAGE:/path)')
    .argument('<src>')
    .argument('<dst>')
    .option('-r, --recursive', 'copy directories and what they hold')
    .option('--keep-partial', 'when space runs out, keep the file cut short (default: remove it)')
    .addHelpText(
      'after',
      '\nExamples:\n  zufs cp -r ./site fs.img:/www      # host to image\n  zufs cp -r fs.img:/www ./backup    # image to host\n',
    )
    .action((src: string, dst: string, o: { recursive?: boolean; keepPartial?: boolean }) =>
      copyCmd(src, dst, !!o.recursive, 'cp', !!o.keepPartial),
    );

  const get = new Command('get')
    .description('copy a file or tree from an image to the host')
    .argument('<spec>', 'IMAGE:/path')
    .argument('<hostpath>')
    .addHelpText('after', '\nExample:\n  zufs get fs.img:/docs ./docs\n')
    .action((spec: string, host: string) => {
      imageOnly(spec, 'get');
      return copyCmd(spec, host, true, 'get');
    });

  const put = new Command('put')
    .description('copy a file or tree from the host into an image')
    .argument('<hostpath>')
    .argument('<spec>', 'IMAGE:/path')
    .option('--keep-partial', 'when the image fills up, keep the file cut short (default: remove it)')
    .addHelpText('after', '\nExample:\n  zufs put ./docs fs.img:/docs\n')
    .action((host: string, spec: string, o: { keepPartial?: boolean }) => {
      imageOnly(spec, 'put');
      return copyCmd(host, spec, true, 'put', !!o.keepPartial);
    });

  const rm = new Command('rm')
    .description('remove files (and with -r, directories) in an image')
    .argument('<specs...>', 'IMAGE:/path ...')
    .option('-r, --recursive', 'remove directories and what they hold')
    .option('-f, --force', 'no error for paths that do not exist')
    .addHelpText('after', '\nExample:\n  zufs rm -r fs.img:/tmp\n')
    .action(async (specs: string[], o: { recursive?: boolean; force?: boolean }) => {
      for (const s of specs) imageOnly(s, 'rm');
      await withSides(specs, 'rm', (side) => {
        for (const s of specs) {
          const { fs, path } = side(s);
          fs.rmSync(path, { recursive: !!o.recursive, force: !!o.force });
        }
      });
    });

  const mkdir = new Command('mkdir')
    .description('make directories in an image')
    .argument('<specs...>', 'IMAGE:/path ...')
    .option('-p, --parents', 'make parents as needed, no error if it exists')
    .addHelpText('after', '\nExample:\n  zufs mkdir -p fs.img:/a/b/c\n')
    .action(async (specs: string[], o: { parents?: boolean }) => {
      for (const s of specs) imageOnly(s, 'mkdir');
      await withSides(specs, 'mkdir', (side) => {
        for (const s of specs) side(s).fs.mkdirSync(side(s).path, { recursive: !!o.parents });
      });
    });

  const mv = new Command('mv')
    .description('rename or move a path within an image (into DST when it is a directory, as mv does)')
    .argument('<src>', 'IMAGE:/path')
    .argument('<dst>', 'IMAGE:/path (same image)')
    .addHelpText(
      'after',
      '\nExamples:\n  zufs mv fs.img:/a.txt fs.img:/b.txt\n  zufs mv fs.img:/a.txt fs.img:/docs   # into /docs\n',
    )
    .action(async (src: string, dst: string) => {
      imageOnly(src, 'mv');
      imageOnly(dst, 'mv');
      if (parseSpec(src).image !== parseSpec(dst).image)
        throw usageError('mv: both paths must be in the same image (use cp)');
      await withSides([src], 'mv', (side) => {
        const { fs, path } = side(src);
        let to = parseSpec(dst).path;
        if (fs.existsSync(to) && fs.statSync(to).isDirectory()) to = posix.join(to, posix.basename(path));
        fs.renameSync(path, to);
      });
    });

  const ln = new Command('ln')
    .description('make a hard link (or with -s a symbolic link) in an image')
    .argument('<target>', 'IMAGE:/path for a hard link; any text for -s')
    .argument('<spec>', 'IMAGE:/path of the new name')
    .option('-s, --symbolic', 'make a symbolic link')
    .addHelpText(
      'after',
      '\nExamples:\n  zufs ln -s ../a.txt fs.img:/docs/link\n  zufs ln fs.img:/a.txt fs.img:/b.txt\n',
    )
    .action(async (target: string, spec: string, o: { symbolic?: boolean }) => {
      imageOnly(spec, 'ln');
      if (!o.symbolic && parseSpec(target).image !== parseSpec(spec).image)
        throw usageError('ln: a hard link needs IMAGE:/path in the same image');
      await withSides([spec], 'ln', (side) => {
        const { fs, path } = side(spec);
        if (o.symbolic) fs.symlinkSync(target, path);
        else fs.linkSync(parseSpec(target).path, path);
      });
    });

  return [ls, stat, cat, cp, get, put, rm, mkdir, mv, ln];
}
