/** `zufs mkfs`, `zufs fsck`, `zufs info`: whole images, without a server. */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { BLOCK_SIZE, fsck, mkfs, PmemDevice, PmemFs } from '@zufs/example-pmemfs';
import { Command } from 'commander';
import { CliError } from '../errors.js';
import { checkImage, lockImage } from '../image.js';
import { progressBar } from '../progress.js';

const UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** "64M", "1G", "4096" -> bytes. */
export function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(s.trim());
  if (!m) throw new CliError(`bad size '${s}' (examples: 64M, 1G, 1048576)`, 2);
  return Math.floor(Number(m[1]) * UNITS[m[2].toUpperCase()]);
}

function print(json: boolean, value: unknown, human: string): void {
  console.log(json ? JSON.stringify(value, null, 2) : human);
}

/** Opens an image in this process (no server): for fsck and info. */
function openFs(imageArg: string, cmd: string): { fs: PmemFs; close(): void } {
  const image = resolve(imageArg);
  checkImage(image, cmd);
  const unlock = lockImage(image, cmd);
  try {
    const dev = PmemDevice.openFile(image);
    try {
      const fs = PmemFs.mount(dev);
      return {
        fs,
        close() {
          dev.close();
          unlock();
        },
      };
    } catch (e) {
      dev.close();
      throw new CliError(`${cmd}: ${image}: ${(e as Error).message}`);
    }
  } catch (e) {
    unlock();
    throw e;
  }
}

export function mkfsCommand(): Command {
  return new Command('mkfs')
    .description('make a zufs (pmemfs) image file')
    .argument('<image>', 'the image file to create')
    .option('-s, --size <size>', 'image size (64M, 1G...)', '64M')
    .option('-i, --inodes <n>', 'number of inodes (default: one per 16 KiB)')
    .option('-L, --label <label>', 'a label (up to 63 bytes)')
    .option('-f, --force', 'overwrite an existing file')
    .addHelpText(
      'after',
      '\nExamples:\n  zufs mkfs fs.img --size 1G --label data\n  zufs mkfs -f scratch.img -s 64M\n',
    )
    .action((imageArg: string, o: { size: string; inodes?: string; label?: string; force?: boolean }) => {
      const image = resolve(imageArg);
      const size = parseSize(o.size);
      const inodes = o.inodes === undefined ? undefined : Number(o.inodes);
      if (inodes !== undefined && !(Number.isInteger(inodes) && inodes > 0))
        throw new CliError('mkfs: --inodes must be a positive integer', 2);
      if (existsSync(image) && statSync(image).size > 0 && !o.force)
        throw new CliError(`mkfs: ${image}: exists (use --force to overwrite it)`);
      const dev = PmemDevice.createFile(image, size);
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

export function fsckCommand(): Command {
  return new Command('fsck')
    .description('check every invariant of an image; --repair fixes what can be fixed and says what it did')
    .argument('<image>', 'the image file (not mounted)')
    .option('--repair', 'fix bitmaps, counts and orphans (into lost+found), and commit the fixes')
    .option('--json', 'print the report as JSON')
    .addHelpText('after', '\nExamples:\n  zufs fsck fs.img && echo clean\n  zufs fsck --repair fs.img\n')
    .action((imageArg: string, o: { repair?: boolean; json?: boolean }) => {
      const image = resolve(imageArg);
      checkImage(image, 'fsck');
      const unlock = lockImage(image, 'fsck');
      let r: ReturnType<typeof fsck>;
      const size = statSync(image).size;
      const bar = progressBar(size, 'fsck [{bar}] {percentage}% {phase}', size >= 64 * 2 ** 20, {
        phase: 'reading',
      });
      try {
        const dev = PmemDevice.openFile(image, { onProgress: (at) => bar?.update(at, { phase: 'reading' }) });
        try {
          bar?.update({ phase: o.repair ? 'checking and repairing' : 'checking' });
          r = fsck(dev, { repair: !!o.repair });
          bar?.update({ phase: 'done' });
        } finally {
          dev.close();
        }
      } catch (e) {
        throw new CliError(`fsck: ${image}: ${(e as Error).message}`);
      } finally {
        bar?.stop();
        unlock();
      }
      const lines = [
        ...r.problems.map((p) => `problem: ${p}`),
        ...r.repairs.map((p) => `repaired: ${p}`),
        ...r.remaining.map((p) => `left: ${p}`),
        `${image}: ${r.remaining.length || (!o.repair && !r.clean) ? 'damaged' : r.repairs.length ? 'repaired' : 'clean'} (${Math.round(r.ms)} ms)`,
      ];
      print(!!o.json, { image, ...r }, lines.join('\n'));
      // 0: clean; 1: damage found (without --repair) or left after it.
      if (r.remaining.length > 0 || (!o.repair && !r.clean)) process.exitCode = 1;
    });
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
