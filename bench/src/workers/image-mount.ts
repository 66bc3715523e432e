// Child process of the image suite: one cold mount of an image file. Starts a server (untimed),
// then times mount + the first operation (readdir of /) + umount, and reports the process RSS once
// the first operation was answered. One process per sample, so no sample sees another's pages.
import { availableParallelism } from 'node:os';
import { PMEMFS_TYPE } from '@zufs/example-pmemfs';
import { mount } from '@zufs/vfs';
import { startServer } from '@zufs/zus-server';

export interface ImageMountSample {
  /** mount + first operation + umount, ns. */
  total_ns: number;
  /** mount until the first operation was answered, ns. */
  first_op_ns: number;
  /** process RSS after the first operation. */
  rss_bytes: number;
  /** process RSS with the server started, before the mount. */
  rss_server_bytes: number;
  entries: number;
}

const image = process.argv[2];
const server = await startServer({ zts: availableParallelism(), channels: 2, filesystems: [PMEMFS_TYPE] });
try {
  const rssServer = process.memoryUsage().rss;
  const t0 = process.hrtime.bigint();
  const fs = mount(server.root, { type: 'pmemfs', device: image, options: 'commit=0' });
  const entries = fs.readdirSync('/').length;
  const t1 = process.hrtime.bigint();
  const rss = process.memoryUsage().rss;
  fs.umount();
  const t2 = process.hrtime.bigint();
  const out: ImageMountSample = {
    total_ns: Number(t2 - t0),
    first_op_ns: Number(t1 - t0),
    rss_bytes: rss,
    rss_server_bytes: rssServer,
    entries,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
} finally {
  await server.stop();
}
