/**
 * How `zufs ls -l` and `zufs stat` show an entry, as ls(1) and stat(1) do: the mode as `drwxr-xr-x`,
 * owners by name (this machine's /etc/passwd and /etc/group) or number, times recent or old, sizes
 * in bytes or (-h) in K, M, G of 1024.
 */
import { readFileSync } from 'node:fs';

/** What a listing needs of a node:fs Stats (the face's Stats have it too). */
export interface EntryStats {
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  size: number;
  ino: number;
  blocks?: number;
  atime: Date;
  mtime: Date;
  ctime: Date;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
  isFile(): boolean;
}

export interface Entry {
  /** As printed: a name in a listed directory, or the operand as typed. */
  name: string;
  st: EntryStats;
  /** A symlink's target. */
  target?: string;
}

const S_IFMT = 0o170000;
/** ls's letter for each file type (S_IFDIR, S_IFLNK, S_IFREG, S_IFCHR, S_IFBLK, S_IFIFO, S_IFSOCK). */
const TYPE_LETTER = new Map([
  [0o040000, 'd'],
  [0o120000, 'l'],
  [0o100000, '-'],
  [0o020000, 'c'],
  [0o060000, 'b'],
  [0o010000, 'p'],
  [0o140000, 's'],
]);

/** `drwxr-xr-x`, with setuid, setgid and sticky as s/S and t/T, as ls shows them. */
export function modeString(mode: number): string {
  let s = TYPE_LETTER.get(mode & S_IFMT) ?? '?';
  const special = [0o4000, 0o2000, 0o1000];
  for (let who = 0; who < 3; who++) {
    const bits = (mode >> (6 - 3 * who)) & 7;
    s += bits & 4 ? 'r' : '-';
    s += bits & 2 ? 'w' : '-';
    const x = bits & 1;
    if (mode & special[who]) s += who === 2 ? (x ? 't' : 'T') : x ? 's' : 'S';
    else s += x ? 'x' : '-';
  }
  return s;
}

export type EntryType = 'directory' | 'symlink' | 'file' | 'other';
export const typeOf = (st: EntryStats): EntryType =>
  st.isDirectory() ? 'directory' : st.isSymbolicLink() ? 'symlink' : st.isFile() ? 'file' : 'other';

/** id -> name from a file of `name:x:id:...` lines (/etc/passwd, /etc/group); empty when unreadable. */
function names(file: string): Map<number, string> {
  const m = new Map<number, string>();
  try {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length > 2 && /^\d+$/.test(f[2]) && !m.has(Number(f[2]))) m.set(Number(f[2]), f[0]);
    }
  } catch {
    // no such file: numbers it is
  }
  return m;
}

let users: Map<number, string> | undefined;
let groups: Map<number, string> | undefined;
export const userName = (uid: number) => (users ??= names('/etc/passwd')).get(uid) ?? String(uid);
export const groupName = (gid: number) => (groups ??= names('/etc/group')).get(gid) ?? String(gid);

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const HALF_YEAR_MS = (365.2425 / 2) * 86_400_000;

/**
 * ls(1)'s time: `Dec  7 03:52` within the last six months, else `Jun  1  2025` (also for a time in
 * the future), in local time.
 */
export function lsTime(t: Date, now = Date.now()): string {
  const day = `${MONTHS[t.getMonth()]} ${String(t.getDate()).padStart(2)}`;
  const age = now - t.getTime();
  if (age >= 0 && age < HALF_YEAR_MS)
    return `${day} ${String(t.getHours()).padStart(2, '0')}:${String(t.getMinutes()).padStart(2, '0')}`;
  return `${day}  ${t.getFullYear()}`;
}

/** ls -h: 1023, 1.0K, 9.9K, 10K, 1023K, 1.0M ... rounded up, as ls does. */
export function humanSize(n: number): string {
  if (n < 1024) return String(n);
  let v = n;
  for (const unit of 'KMGTPE') {
    v /= 1024;
    if (v < 10) {
      const r = Math.ceil(v * 10) / 10;
      if (r < 10) return `${r.toFixed(1)}${unit}`;
    }
    const r = Math.ceil(v);
    if (r < 1024) return `${r}${unit}`;
  }
  return `${Math.ceil(v)}E`;
}

/** ls -l's lines: columns aligned over the entries, `-> target` after a symlink's name. */
export function longLines(entries: Entry[], human: boolean): string[] {
  const rows = entries.map((e) => [
    modeString(e.st.mode),
    String(e.st.nlink),
    userName(e.st.uid),
    groupName(e.st.gid),
    human ? humanSize(e.st.size) : String(e.st.size),
    lsTime(e.st.mtime),
    e.target === undefined ? e.name : `${e.name} -> ${e.target}`,
  ]);
  const width = (i: number) => Math.max(0, ...rows.map((r) => r[i].length));
  const w = [0, 1, 2, 3, 4].map(width);
  return rows.map(
    (r) =>
      `${r[0]} ${r[1].padStart(w[1])} ${r[2].padEnd(w[2])} ${r[3].padEnd(w[3])} ${r[4].padStart(w[4])} ${r[5]} ${r[6]}`,
  );
}

/** The JSON of an entry (ls --json, stat --json). */
export function entryJson(e: Entry) {
  const { st } = e;
  return {
    name: e.name,
    type: typeOf(st),
    size: st.size,
    mode: `0${(st.mode & 0o7777).toString(8)}`,
    nlink: st.nlink,
    uid: st.uid,
    gid: st.gid,
    ino: st.ino,
    atime: st.atime.toISOString(),
    mtime: st.mtime.toISOString(),
    ctime: st.ctime.toISOString(),
    ...(e.target === undefined ? {} : { target: e.target }),
  };
}
