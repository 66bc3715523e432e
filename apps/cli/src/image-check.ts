/**
 * Is this file a pmemfs image this zufs can open? One clear error if not. (Apart from image.ts, so
 * that a command can start its server before it loads pmemfs to check the image.)
 */
import { FORMAT_VERSION, PMEMFS_MAGIC } from '@zufs/example-pmemfs';
import { CliError } from './errors.js';
import { checkImageFile } from './image.js';
import { readHead } from './volume-type.js';

/** One clear error for a file that is not a pmemfs image we can open. */
export function checkImage(image: string, cmd: string): void {
  checkImageFile(image, cmd);
  const head = readHead(image, 8);
  if (head.readUInt32LE(0) !== PMEMFS_MAGIC) throw new CliError(`${cmd}: ${image}: not a zufs image`);
  const version = head.readUInt32LE(4);
  if (version > FORMAT_VERSION)
    throw new CliError(
      `${cmd}: ${image}: made by a newer zufs (format version ${version}; this one reads up to ${FORMAT_VERSION})`,
    );
}
