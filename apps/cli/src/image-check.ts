/**
 * Is this file a pmemfs image this zufs can open? One clear error if not. It reads pmemfs's format
 * words only (`@zufs/example-pmemfs/format`), not the filesystem: a command on an image checks it
 * while its server starts.
 */

import { existsSync, statSync } from 'node:fs';
import { FORMAT_VERSION, MAGIC_OFFSET, PMEMFS_MAGIC, VERSION_OFFSET } from '@zufs/example-pmemfs/format';
import { CliError } from './errors.js';
import { readHead } from './volume-type.js';

/** The path is a file (the first of checkImage's checks). */
function checkImageFile(image: string, cmd: string): void {
  if (!existsSync(image)) throw new CliError(`${cmd}: ${image}: no such image`);
  if (!statSync(image).isFile()) throw new CliError(`${cmd}: ${image}: not a file`);
}

/** One clear error for a file that is not a pmemfs image we can open. */
export function checkImage(image: string, cmd: string): void {
  checkImageFile(image, cmd);
  const head = readHead(image, 8);
  if (head.readUInt32LE(MAGIC_OFFSET) !== PMEMFS_MAGIC)
    throw new CliError(`${cmd}: ${image}: not a zufs image`);
  const version = head.readUInt32LE(VERSION_OFFSET);
  if (version > FORMAT_VERSION)
    throw new CliError(
      `${cmd}: ${image}: made by a newer zufs (format version ${version}; this one reads up to ${FORMAT_VERSION})`,
    );
}
