// The C programs of the fuse and workload suites, built with the machine's gcc on first use into a
// cache directory next to dist/, and rebuilt when their source changes: ours (bench/native/*.c) and
// libfuse's passthrough_ll example, which Debian's libfuse3-dev ships as source (never copied here).
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

/** Where libfuse3-dev puts its examples (passthrough_ll.c and the header it includes). */
export const LIBFUSE_EXAMPLES = '/usr/share/doc/libfuse3-dev/examples/';

/** The path of program `name`, built if missing or older than its source. */
export function nativeProgram(name: 'fsbench' | 'libfuse-ll' | 'passthrough-ll'): string {
  const src = name === 'passthrough-ll' ? `${LIBFUSE_EXAMPLES}passthrough_ll.c` : `${SRC}${name}.c`;
  const bin = `${OUT}${name}`;
  if (!existsSync(src))
    throw new NativeBuildError(
      name === 'passthrough-ll'
        ? `${src} is missing: libfuse3-dev's examples are not installed (apt-get install libfuse3-dev; a dpkg path-exclude of /usr/share/doc drops them)`
        : `${src} is missing`,
    );
  if (existsSync(bin) && statSync(bin).mtimeMs >= statSync(src).mtimeMs) return bin;
  mkdirSync(OUT, { recursive: true });
  const libs = name === 'fsbench' ? ['-pthread'] : pkgConfig('fuse3');
  if (name === 'passthrough-ll') libs.push('-I', LIBFUSE_EXAMPLES);
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
