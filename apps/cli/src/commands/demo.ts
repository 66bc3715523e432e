import { execSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkfs, PmemDevice } from '@zufs/example-pmemfs';
import { fuseUnavailable } from '@zufs/fuse';
import { Command } from 'commander';
import { mountImage } from '../image-mount.js';
import { loadBench } from './bench.js';

/**
 * The README's main job: start a server, dispatch operations from the main thread and from worker
 * threads, and print the round trips against the peers, measured in the same run; then (as root,
 * with /dev/fuse) mount an image through the kernel and run ordinary programs on it.
 */
export function demoCommand(): Command {
  return new Command('demo')
    .description('start a server, dispatch from the main thread and from workers, compare with the peers')
    .option('--full', 'full-length measurements (about a minute) instead of a quick run')
    .addHelpText('after', '\nExample:\n  zufs demo\n')
    .action(async (o: { full?: boolean }) => {
      const quick = !o.full;
      const { runSuite } = await loadBench('demo');
      console.log(
        'zufs demo: a server with one ZT per CPU x 3 channels; operations from this thread and from 2 workers.\n',
      );
      const dispatch = await runSuite('dispatch', { quick, log: () => {} });
      console.log(dispatch.table);
      console.log('\nThe relay under it, against bare Atomics round trips:\n');
      const relay = await runSuite('relay', { quick, log: () => {} });
      console.log(relay.table);
      const r = dispatch.report.ratios ?? {};
      const pm = r['postmessage-rt/zufs-null-op'];
      const sk = r['synckit-rt/zufs-null-op'];
      if (pm && sk) {
        console.log(
          `\nA zufs operation round trip is ${pm.toFixed(0)}x faster than postMessage and ${sk.toFixed(0)}x faster than synckit here.`,
        );
      }
      await kernelMountDemo();
    });
}

/** A pmemfs image mounted through FUSE, with ordinary programs run on it (when root and /dev/fuse allow). */
async function kernelMountDemo(): Promise<void> {
  const why = fuseUnavailable();
  if (why) {
    console.log(`\nThe kernel mount part is skipped: ${why.message}`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'zufs-demo-'));
  const image = join(dir, 'demo.img');
  const mnt = join(dir, 'mnt');
  mkdirSync(mnt);
  const dev = PmemDevice.createFile(image, 64 * 2 ** 20);
  mkfs(dev, { label: 'demo' });
  dev.flush();
  dev.close();
  console.log(`\nThe same filesystem for every program: ${image} mounted on ${mnt} through /dev/fuse.\n`);
  const m = await mountImage({ image, mountpoint: mnt, handleSignals: false });
  try {
    const sh = (cmd: string) => {
      console.log(`$ ${cmd}`);
      // The mount is served by reader threads, so this thread may block in a child process.
      process.stdout.write(execSync(cmd, { cwd: mnt, encoding: 'utf8', shell: '/bin/sh' }));
    };
    sh('mkdir -p docs && echo "hello from zufs" > docs/hello.txt && cat docs/hello.txt');
    sh('dd if=/dev/urandom of=blob bs=1M count=8 status=none && sha256sum blob | cut -c1-16');
    sh(`tar cf - -C ${dirname(fileURLToPath(import.meta.url))} . | tar xf - -C docs && ls docs | head -5`);
    sh('ln -s docs/hello.txt link && cat link && df -h . | tail -1');
  } finally {
    await m.close();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log('\nUnmounted; the image was written back on unmount.');
}
