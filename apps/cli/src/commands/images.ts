/** `zufs mkfs`, `zufs fsck`, `zufs info`: whole images, without a server. */
import { closeSync, existsSync, fstatSync, openSync, rmSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  BLOCK_SIZE,
  fsck,
  type ImageLock,
  LABEL_MAX,
  lockImage,
  MAX_DEVICE_SIZE,
  mkfs,
  PmemDevice,
  PmemFs,
  planLayout,
  readImageInto,
} from '@zufs/example-pmemfs';
import { Command, Option } from 'commander';
import { CliError, codeOf, errnoWords, usageError } from '../errors.js';
import { holderName, openFailure } from '../image.js';
import { checkImage } from '../image-check.js';
import { progressBar } from '../progress.js';
import {
  isPgUrl,
  shownVolume,
  VOLUME_TYPES,
  type VolumeType,
  volumeDevice,
  volumeType,
} from '../volume-type.js';

const UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** "64M", "1G", "4096" -> bytes. */
export function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(s.trim());
  if (!m) throw new CliError(`bad size '${s}' (examples: 64M, 1G, 1048576)`, 2);
  return Math.floor(Number(m[1]) * UNITS[m[2].toUpperCase()]);
}

/** 4294967296 -> "4G" (whole units only), else the bytes. */
function sizeText(bytes: number): string {
  for (const u of ['T', 'G', 'M', 'K'])
    if (bytes % UNITS[u] === 0) return `${bytes / UNITS[u]}${u} (${bytes} bytes)`;
  return `${bytes} bytes`;
}

/** An error's cause in words: the errno's when it has one (EIO: input/output error), else its message. */
function describeCause(e: unknown): string {
  const code = codeOf(e);
  return code ? errnoWords(code) : (e as Error).message;
}

function print(json: boolean, value: unknown, human: string): void {
  console.log(json ? JSON.stringify(value, null, 2) : human);
}

/** Opens an image read-write in this process (no server), taking its lock: for fsck and info. */
function openDevice(
  image: string,
  cmd: string,
  opts: { onProgress?: (at: number) => void; sparse?: boolean } = {},
): PmemDevice {
  try {
    return PmemDevice.openFile(image, { holder: holderName(cmd), ...opts });
  } catch (e) {
    throw openError(e, cmd);
  }
}

/** Why an image could not be opened, as the line to print; an image in use says so. */
function openError(e: unknown, cmd: string): unknown {
  const why = openFailure(e, cmd.split(' ')[0]);
  if (!(why instanceof CliError) || (e as { code?: string }).code !== 'EBUSY') return why;
  // As e2fsck on a mounted filesystem: refuse, and say why (fsck(8)'s 8: operational error).
  return new CliError(`${why.message}: unmount it first`, cmd.startsWith('fsck') ? 8 : 1);
}

/** Mounts an image in this process (no server): for info. close() commits and unlocks it. */
function openFs(imageArg: string, cmd: string): { fs: PmemFs; close(): void } {
  const image = resolve(imageArg);
  checkImage(image, cmd);
  const dev = openDevice(image, cmd, { sparse: true }); // the mount reads what the image uses
  try {
    return { fs: PmemFs.mount(dev), close: () => dev.close() };
  } catch (e) {
    dev.abandon();
    throw new CliError(`${cmd}: ${imageArg}: ${describeCause(e)}`);
  }
}

/** mkfs's arguments, all checked before anything is created: a usage error leaves no file. */
function mkfsPlan(o: { size: string; inodes?: string; label?: string }): { size: number; inodes?: number } {
  const size = parseSize(o.size);
  if (size > MAX_DEVICE_SIZE)
    throw new CliError(
      `mkfs: --size ${o.size} is larger than the largest image, ${sizeText(MAX_DEVICE_SIZE)}`,
      2,
    );
  let inodes: number | undefined;
  if (o.inodes !== undefined) {
    inodes = /^\d+$/.test(o.inodes.trim()) ? Number(o.inodes) : Number.NaN;
    if (!(Number.isSafeInteger(inodes) && inodes > 0))
      throw new CliError(`mkfs: --inodes must be a positive integer (got '${o.inodes}')`, 2);
  }
  if (o.label !== undefined && Buffer.byteLength(o.label) > LABEL_MAX)
    throw new CliError(`mkfs: --label is ${Buffer.byteLength(o.label)} bytes; at most ${LABEL_MAX}`, 2);
  try {
    planLayout(size, { inodes, label: o.label });
  } catch (e) {
    // size: a multiple of 4096 from 1 MiB to 16 GiB; inodes: from 32 and leaving room for data.
    throw new CliError(`${(e as Error).message.replace(/^EINVAL: /, '')} (--size ${o.size})`, 2);
  }
  return { size, inodes };
}

export function mkfsCommand(): Command {
  return new Command('mkfs')
    .description('make a zufs (pmemfs) image file')
    .argument('<image>', 'the image file to create')
    .option('-s, --size <size>', `image size (64M, 1G... at most ${MAX_DEVICE_SIZE / 2 ** 30}G)`, '64M')
    .option('-i, --inodes <n>', 'number of inodes (default: one per 16 KiB)')
    .option('-L, --label <label>', 'a label (up to 63 bytes)')
    .option('-f, --force', 'overwrite an existing file')
    .addOption(
      new Option('-t, --type <type>', 'the filesystem: pmemfs (an image file) or sqlfs (SQL)')
        .choices(VOLUME_TYPES)
        .default('pmemfs'),
    )
    .option('-b, --block-size <size>', 'sqlfs: bytes of file data a row holds (4K to 4M; default 64K)')
    .addHelpText(
      'after',
      '\nExamples:\n  zufs mkfs fs.img --size 1G --label data\n  zufs mkfs -f scratch.img -s 64M\n' +
        '  zufs mkfs --type sqlfs vol.db                       # SQLite: one file, grows as used\n' +
        '  zufs mkfs --type sqlfs postgres://host/db           # PostgreSQL: mounted by many machines\n',
    )
    .action(async (imageArg: string, o: MkfsFlags) => {
      if (o.type === 'sqlfs') return mkfsSqlfs(imageArg, o);
      if (o.blockSize !== undefined) throw usageError('mkfs: --block-size is for --type sqlfs');
      const image = resolve(imageArg);
      const { size, inodes } = mkfsPlan(o);
      if (existsSync(image) && statSync(image).size > 0 && !o.force)
        throw new CliError(`mkfs: ${image}: exists (use --force to overwrite it)`);
      let dev: PmemDevice;
      try {
        dev = PmemDevice.createFile(image, size, { holder: holderName('mkfs') }); // locks, then truncates
      } catch (e) {
        throw openFailure(e, 'mkfs');
      }
      try {
        mkfs(dev, { inodes, label: o.label });
        dev.flush();
      } catch (e) {
        throw new CliError(`mkfs: ${image}: ${(e as Error).message}`);
      } finally {
        dev.close();
      }
      console.log(`made ${image}: ${o.size}${o.label ? `, label ${o.label}` : ''}`);
    });
}

interface MkfsFlags {
  size: string;
  inodes?: string;
  label?: string;
  force?: boolean;
  type: VolumeType;
  blockSize?: string;
}

/** mkfs of an sqlfs volume: a new SQLite file (or, with --force, in place of one), or a PostgreSQL database. */
async function mkfsSqlfs(where: string, o: MkfsFlags): Promise<void> {
  if (o.inodes !== undefined || o.label !== undefined)
    throw usageError('mkfs: --inodes and --label are for pmemfs (an sqlfs volume has no fixed inode table)');
  const blockSize = o.blockSize === undefined ? undefined : parseSize(o.blockSize);
  const device = volumeDevice(where);
  if (!isPgUrl(where) && existsSync(device) && statSync(device).size > 0) {
    if (!o.force) throw new CliError(`mkfs: ${device}: exists (use --force to overwrite it)`);
    for (const f of [device, `${device}-wal`, `${device}-shm`]) rmSync(f, { force: true });
  }
  const { mkfs } = await import('@zufs/example-sqlfs');
  try {
    await mkfs(device, { blockSize });
  } catch (e) {
    throw new CliError(`mkfs: ${(e as Error).message.replace(/^E[A-Z]+: /, '')}`);
  }
  console.log(`made ${shownVolume(device)}: sqlfs${blockSize ? `, ${blockSize}-byte blocks` : ''}`);
}

/** fsck(8)'s exit codes (e2fsck's): what a script or a boot checks. */
export const FSCK_EXIT = { clean: 0, corrected: 1, uncorrected: 4, operational: 8 } as const;

/**
 * The image's bytes in a memory device, for a check that must write nothing (-n): the file is
 * opened read-only and the device has no file to flush to. The image's lock is held while it is
 * read (an image in use lags its mount), so the check sees a committed image.
 */
function loadReadOnly(image: string, onProgress: (at: number) => void): PmemDevice {
  let lock: ImageLock;
  try {
    lock = lockImage(image, holderName('fsck'));
  } catch (e) {
    throw openError(e, 'fsck');
  }
  let fd: number | undefined;
  try {
    fd = openSync(image, 'r');
    const size = fstatSync(fd).size;
    const dev = PmemDevice.memory(size);
    readImageInto(fd, dev.bytes, 0, size, onProgress, true);
    return dev;
  } finally {
    if (fd !== undefined) closeSync(fd);
    lock.release();
  }
}

export function fsckCommand(): Command {
  return new Command('fsck')
    .description('check every invariant of an image; -y fixes what can be fixed and says what it did')
    .argument('<image>', 'the image file (not mounted)')
    .option('-n', 'check only, never write to the image (the default)')
    .option('-y, --repair', 'fix bitmaps, counts and orphans (into lost+found), and commit the fixes')
    .option('-f, --force', 'check fully even if the image seems clean (accepted: every check is full)')
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      '\nExit codes (as fsck(8)): 0 clean, 1 errors corrected, 4 errors left uncorrected,\n' +
        '8 operational error (no such image, not an image, in use, I/O), 2 usage error.\n' +
        '\nExamples:\n  zufs fsck fs.img && echo clean\n  zufs fsck -n fs.img     # check only\n  zufs fsck -fy fs.img    # repair\n',
    )
    .action(async (imageArg: string, o: { n?: boolean; repair?: boolean; json?: boolean }) => {
      if (o.n && o.repair) throw usageError('fsck: -n (check only) and -y (repair) exclude each other');
      const repair = !!o.repair;
      if (volumeType(imageArg) === 'sqlfs') return fsckSqlfs(imageArg, repair, !!o.json);
      const image = resolve(imageArg);
      let r: ReturnType<typeof fsck>;
      try {
        checkImage(image, 'fsck');
        const size = statSync(image).size;
        const bar = progressBar(size, 'fsck [{bar}] {percentage}% {phase}', size >= 64 * 2 ** 20, {
          phase: 'reading',
        });
        try {
          const onProgress = (at: number) => bar?.update(at, { phase: 'reading' });
          // Checking too takes the lock: an image in use lags its mount (changes not yet committed).
          const dev = repair
            ? openDevice(image, 'fsck --repair', { onProgress })
            : loadReadOnly(image, onProgress);
          try {
            bar?.update({ phase: repair ? 'checking and repairing' : 'checking' });
            r = fsck(dev, { repair });
            bar?.update({ phase: 'done' });
          } finally {
            dev.close();
          }
        } catch (e) {
          if (e instanceof CliError) throw e;
          throw new CliError(`fsck: ${imageArg}: ${describeCause(e)}`);
        } finally {
          bar?.stop();
        }
      } catch (e) {
        // Whatever kept the check from running (no such image, not an image, in use, I/O) is 8.
        throw new CliError((e as Error).message, FSCK_EXIT.operational);
      }
      printVerdict(r, repair, imageArg, !!o.json, { image, ...r }, r.recovery.replayed > 0);
    });
}

interface Verdict {
  clean: boolean;
  problems: string[];
  repairs: string[];
  remaining: string[];
  ms: number;
}

/** A check's report as fsck(8) gives it: the lines (or JSON) and the exit code. */
function printVerdict(
  r: Verdict,
  repair: boolean,
  shown: string,
  json: boolean,
  value: unknown,
  replayed = false,
) {
  const left = r.remaining.length > 0 || (!repair && !r.clean);
  const fixed = repair && (r.repairs.length > 0 || replayed);
  const verdict = left
    ? `damaged${repair ? '' : ` (repair with: zufs fsck -y ${shown})`}`
    : fixed
      ? 'repaired'
      : 'clean';
  const lines = [
    ...r.problems.map((p) => `problem: ${p}`),
    ...r.repairs.map((p) => `repaired: ${p}`),
    ...r.remaining.map((p) => `left: ${p}`),
    `${shown}: ${verdict} (${Math.round(r.ms)} ms)`,
  ];
  print(json, value, lines.join('\n'));
  process.exitCode = left ? FSCK_EXIT.uncorrected : fixed ? FSCK_EXIT.corrected : FSCK_EXIT.clean;
}

/** fsck of an sqlfs volume: one transaction (a snapshot), so mounts may go on meanwhile. */
async function fsckSqlfs(where: string, repair: boolean, json: boolean): Promise<void> {
  const device = volumeDevice(where);
  const shown = shownVolume(where);
  let r: Awaited<ReturnType<typeof import('@zufs/example-sqlfs').fsck>>;
  try {
    const { fsck, openEngine, openVolume, volumeSpec } = await import('@zufs/example-sqlfs');
    const eng = openEngine(volumeSpec(device), { readonly: !repair });
    try {
      await openVolume(eng, shown, !repair);
      r = await fsck(eng, { repair });
    } finally {
      await eng.close();
    }
  } catch (e) {
    // sqlfs's reasons are whole sentences (a newer schema, not a volume): the message, not the errno's words.
    throw new CliError(
      `fsck: ${shown}: ${(e as Error).message.replace(/^E[A-Z]+: /, '')}`,
      FSCK_EXIT.operational,
    );
  }
  printVerdict(r, repair, shown, json, { volume: shown, ...r });
}

export function infoCommand(): Command {
  return new Command('info')
    .description('show an image: label, format, size, usage and layout')
    .argument('<image>', 'the image file')
    .option('--json', 'print as JSON')
    .addHelpText('after', '\nExample:\n  zufs info fs.img --json\n')
    .action((imageArg: string, o: { json?: boolean }) => {
      const { fs, close } = openFs(imageArg, 'info');
      try {
        const g = fs.geometry;
        const st = fs.statfs();
        const info = {
          image: resolve(imageArg),
          label: g.label,
          formatVersion: g.version,
          bytes: g.devSize,
          blockSize: BLOCK_SIZE,
          blocks: { total: g.dataBlocks, used: g.dataBlocks - st.bfree, free: st.bfree },
          inodes: { total: g.inodeCount - 1, used: g.inodeCount - 1 - st.ffree, free: st.ffree },
          layout: {
            journal: [g.journalStart, g.journalBlocks],
            blockBitmap: [g.bbmStart, g.bbmBlocks],
            inodeBitmap: [g.ibmStart, g.ibmBlocks],
            inodeTable: [g.itableStart, g.itableBlocks],
            data: [g.dataStart, g.dataBlocks],
          },
          made: new Date(g.mkfsTimeNs / 1e6).toISOString(),
        };
        const pct = (u: number, t: number) => (t ? ((u / t) * 100).toFixed(1) : '0.0');
        print(
          !!o.json,
          info,
          [
            `${info.image}: zufs pmemfs image, format ${info.formatVersion}, label '${info.label}'`,
            `  size    ${info.bytes} bytes, ${BLOCK_SIZE}-byte blocks, made ${info.made}`,
            `  blocks  ${info.blocks.used} used of ${info.blocks.total} (${pct(info.blocks.used, info.blocks.total)}%)`,
            `  inodes  ${info.inodes.used} used of ${info.inodes.total} (${pct(info.inodes.used, info.inodes.total)}%)`,
            '  layout  (first block, blocks)',
            ...Object.entries(info.layout).map(([k, [a, n]]) => `    ${k.padEnd(12)} ${a}, ${n}`),
          ].join('\n'),
        );
      } finally {
        close();
      }
    });
}
