// pmemfs with a crash hook for `pnpm bench restart`: a LOOKUP of `__crash__` ends the ZT thread that
// serves it (process.exit in a worker ends that thread), as a plugin bug would.
import pmemfs from '@zufs/example-pmemfs/fs-type';
import { defineFsType, type SuperBlock } from '@zufs/zus-server';

export const CRASH_NAME = '__crash__';

export default defineFsType({
  ...pmemfs,
  attach(descriptor, ctx): SuperBlock {
    const sb = pmemfs.attach(descriptor, ctx);
    return {
      ...sb,
      lookup(dir, name, op) {
        if (name.len === CRASH_NAME.length && name.str() === CRASH_NAME) process.exit(3);
        return sb.lookup!(dir, name, op);
      },
    };
  },
});
