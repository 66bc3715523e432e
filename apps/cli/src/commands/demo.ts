import { runSuite } from '@zufs/bench';
import { Command } from 'commander';

/**
 * The README's main job: start a server, dispatch operations from the main thread and from worker
 * threads, and print the round trips against the peers, measured in the same run.
 */
export function demoCommand(): Command {
  return new Command('demo')
    .description('start a server, dispatch from the main thread and from workers, compare with the peers')
    .option('--full', 'full-length measurements (about a minute) instead of a quick run')
    .addHelpText('after', '\nExample:\n  zufs demo\n')
    .action(async (o: { full?: boolean }) => {
      const quick = !o.full;
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
    });
}
