import type { Case } from '../case.js';
import { attrCases } from './attrs.js';
import { copyCases } from './copy.js';
import { dirCases } from './dirs.js';
import { errorCases } from './errors.js';
import { fdMatrixCases } from './fd-matrix.js';
import { fdCases } from './fds.js';
import { fileCases } from './files.js';
import { formCases } from './forms.js';
import { linkCases } from './links.js';
import { pathMatrixCases } from './path-matrix.js';
import { permissionMatrixCases } from './permission-matrix.js';
import { removalCases } from './removal.js';
import { renameCases } from './rename.js';
import { streamCases } from './streams.js';
import { xattrCases } from './xattr.js';

/** Every conformance case, by area. */
export const cases: Case[] = [
  ...fileCases,
  ...copyCases,
  ...dirCases,
  ...linkCases,
  ...renameCases,
  ...removalCases,
  ...attrCases,
  ...errorCases,
  ...pathMatrixCases,
  ...permissionMatrixCases,
  ...fdCases,
  ...fdMatrixCases,
  ...streamCases,
  ...formCases,
  ...xattrCases,
];
