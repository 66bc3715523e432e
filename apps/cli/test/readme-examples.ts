/**
 * The runnable examples of a README: fenced blocks whose info string says `test`.
 *
 *   ```js test                 a program: written to a file and run with node
 *   ```js test file=worker.mjs  a module other examples load: written under that name, not run
 *   ```sh test                 shell lines, run with sh -e (the packages' bins on PATH)
 *   ```sh test root            run only as root with /dev/fuse (a kernel mount), after the others
 *   ```js no-test              shown but not run (say why next to it)
 *
 * An example is a block that imports a @zufs package or runs the zufs command: each must be marked
 * one way or the other, so that no example escapes the packed-install test by being left unmarked.
 */
export interface Example {
  /** 1-based line of the opening fence, for messages. */
  line: number;
  lang: string;
  code: string;
  /** `test`: run (or written, with `file`); `no-test`: shown only; null: unmarked. */
  mark: 'test' | 'no-test' | null;
  file?: string;
  /** Needs root and /dev/fuse. */
  root: boolean;
}

const FENCE = /^(\s*)```(\S*)(.*)$/;

export function readmeBlocks(text: string): Example[] {
  const lines = text.split('\n');
  const out: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]);
    if (!open) continue;
    const [, indent, lang, info] = open;
    const words = info.trim().split(/\s+/).filter(Boolean);
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && lines[j].trim() !== '```'; j++) body.push(lines[j].slice(indent.length));
    if (j === lines.length) throw new Error(`line ${i + 1}: a code block that is never closed`);
    const mark = words.includes('test') ? 'test' : words.includes('no-test') ? 'no-test' : null;
    const file = words.find((w) => w.startsWith('file='))?.slice(5);
    out.push({ line: i + 1, lang, code: `${body.join('\n')}\n`, mark, file, root: words.includes('root') });
    i = j;
  }
  return out;
}

/** A block a reader would take for an example: it uses a zufs package or the zufs command. */
export function isExample(b: Example): boolean {
  return /from '@zufs\/|require\('@zufs\/|^\s*(sudo\s+)?(npx\s+)?zufs\s/m.test(b.code);
}
