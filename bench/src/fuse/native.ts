// The fuse suite's two C programs (bench/native/*.c), built with the machine's gcc on first use into a
// cache directory next to dist/, and rebuilt when their source changes.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../native/', import.meta.url));
const OUT = fileURLToPath(new URL('../../native/build/', import.meta.url));

export class NativeBuildError extends Error {}

function pkgConfig(lib: string): string[] {
  try {
    return execFileSync('pkg-config', ['--cflags', '--libs', lib], { encoding: 'utf8' }).trim().split(/\s+/);
  } catch {
    throw new NativeBuildError(
      `pkg-config found no ${lib}: install gcc, pkg-config and libfuse3-dev (Debian: apt-get install gcc pkg-config libfuse3-dev fuse3)`,
    );
  }
}

/** The path of program `name` (bench/native/<name>.c), built if missing or older than its source. */
export function nativeProgram(name: 'fsbench' | 'libfuse-ll'): string {
  const src = `${SRC}${name}.c`;
  const bin = `${OUT}${name}`;
  if (!existsSync(src)) throw new NativeBuildError(`${src} is missing`);
  if (existsSync(bin) && statSync(bin).mtimeMs >= statSync(src).mtimeMs) return bin;
  mkdirSync(OUT, { recursive: true });
  const libs = name === 'libfuse-ll' ? pkgConfig('fuse3') : ['-pthread'];
  try {
    execFileSync('gcc', ['-O2', '-Wall', '-o', bin, src, ...libs], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const err = (e as { stderr?: Buffer }).stderr?.toString() ?? String(e);
    throw new NativeBuildError(
      `gcc could not build ${name}: ${err.trim().split('\n').slice(0, 5).join(' | ')}`,
    );
  }
  return bin;
}
