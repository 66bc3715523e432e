/**
 * Runs the suite without a test framework: each case on a fresh environment of a target, with its
 * outcome (passed, failed and why, known departure, not supported by the filesystem, needs root).
 */
import path from 'node:path';
import type { Case, Ctx } from './case.js';
import { cases as allCases } from './cases/index.js';
import type { Target } from './target.js';

/** A case that neither settles nor fails within this long counts as failed (a synchronous one cannot hang it). */
export const CASE_MS = 5_000;

/** Runs case `c` on a fresh environment of `target`; throws what the case threw. */
export async function runCase(target: Target, c: Case, caseMs = CASE_MS): Promise<void> {
  const env = await target.setup();
  const ctx: Ctx = {
    fs: env.fs,
    root: env.root,
    p: (...segments) => path.posix.join(env.root, ...segments),
    asUser(cred, fn) {
      if (!env.asUser) throw new Error(`target ${target.name} cannot act as another user`);
      return env.asUser(cred, fn);
    },
    target: target.name,
  };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`case did not settle within ${caseMs} ms`)), caseMs);
  });
  try {
    await Promise.race([Promise.resolve().then(() => c.run(ctx)), timeout]);
  } finally {
    clearTimeout(timer);
    await env.cleanup();
  }
}

/** A departure must still fail: one that passes means the target was fixed and the entry must go. */
export async function expectDeparture(target: Target, c: Case, caseMs = CASE_MS): Promise<void> {
  try {
    await runCase(target, c, caseMs);
  } catch {
    return;
  }
  throw new Error(`${c.id} passes on ${target.name} now: remove it from ${target.name}'s departures`);
}

/**
 * Case ids or areas (`links/*`) a filesystem does not support, with the reason: such cases are not
 * run and are reported as "not supported by this fs", never as passed.
 */
export type Unsupported = Record<string, string>;

/** Why `id` is not supported, or undefined. */
export function unsupportedReason(unsupported: Unsupported, id: string): string | undefined {
  if (unsupported[id] !== undefined) return unsupported[id];
  const area = `${id.slice(0, id.indexOf('/'))}/*`;
  return unsupported[area];
}

export type Outcome =
  | { status: 'passed' }
  | { status: 'failed'; error: unknown }
  | { status: 'departure'; reason: string }
  | { status: 'unsupported'; reason: string }
  | { status: 'needs-root' };

export interface CaseResult {
  case: Case;
  outcome: Outcome;
}

export interface SuiteOptions {
  /** Only the cases whose id starts with one of these (default: all). */
  only?: string[];
  unsupported?: Unsupported;
  caseMs?: number;
  /** Called after each case (for progress output). */
  onResult?(r: CaseResult): void;
}

/** Runs every case on `target` (then closes it) and returns each outcome. */
export async function runSuite(target: Target, o: SuiteOptions = {}): Promise<CaseResult[]> {
  const isRoot = process.geteuid?.() === 0;
  const out: CaseResult[] = [];
  try {
    for (const c of allCases) {
      if (o.only && !o.only.some((prefix) => c.id.startsWith(prefix))) continue;
      const reason = unsupportedReason(o.unsupported ?? {}, c.id);
      const departure = target.departures[c.id];
      let outcome: Outcome;
      if (reason !== undefined) outcome = { status: 'unsupported', reason };
      else if (c.root && !isRoot) outcome = { status: 'needs-root' };
      else {
        try {
          if (departure !== undefined) await expectDeparture(target, c, o.caseMs);
          else await runCase(target, c, o.caseMs);
          outcome =
            departure !== undefined ? { status: 'departure', reason: departure } : { status: 'passed' };
        } catch (error) {
          outcome = { status: 'failed', error };
        }
      }
      const r = { case: c, outcome };
      out.push(r);
      o.onResult?.(r);
    }
  } finally {
    await target.close?.();
  }
  return out;
}

/** The suite's outcome as lines for people: every failure with its reason, then the counts. */
export function report(target: string, results: CaseResult[]): string {
  const lines: string[] = [];
  const count = (s: Outcome['status']) => results.filter((r) => r.outcome.status === s).length;
  for (const { case: c, outcome } of results) {
    if (outcome.status === 'failed') {
      const e = outcome.error as Error;
      const why = (e?.message ?? String(e)).split('\n').slice(0, 6).join('\n      ');
      lines.push(`FAIL ${c.id}: ${c.title}\n      ${why}`);
    }
  }
  const unsupported = new Map<string, string[]>();
  for (const { case: c, outcome } of results)
    if (outcome.status === 'unsupported')
      unsupported.set(outcome.reason, [...(unsupported.get(outcome.reason) ?? []), c.id]);
  for (const [reason, ids] of unsupported)
    lines.push(
      `not supported by this fs (${reason}): ${ids.length} case${ids.length === 1 ? '' : 's'} (${ids.join(', ')})`,
    );
  const needsRoot = count('needs-root');
  if (needsRoot) lines.push(`not run: ${needsRoot} cases need root (run as root to include them)`);
  lines.push(
    `${target}: ${count('passed')} passed, ${count('failed')} failed, ${count('unsupported')} not supported, ` +
      `${needsRoot} need root` +
      (count('departure') ? `, ${count('departure')} known departures` : ''),
  );
  return lines.join('\n');
}
