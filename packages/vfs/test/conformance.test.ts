import path from 'node:path';
import { describe, expect, it, test } from 'vitest';
import type { Case, Ctx } from './conformance/case.js';
import { cases } from './conformance/cases/index.js';
import type { Target } from './conformance/target.js';
import { targets } from './conformance/targets/index.js';

// One suite, run unchanged against every target in conformance/targets. A case a target lists in its
// departures still runs and must fail there; the reason is in the test's name.

/** A case that neither settles nor fails within this long counts as failed. */
const CASE_MS = 5_000;
const isRoot = process.geteuid?.() === 0;

async function runCase(target: Target, c: Case): Promise<void> {
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
    timer = setTimeout(() => reject(new Error(`case did not settle within ${CASE_MS} ms`)), CASE_MS);
  });
  try {
    await Promise.race([Promise.resolve().then(() => c.run(ctx)), timeout]);
  } finally {
    clearTimeout(timer);
    await env.cleanup();
  }
}

/** A departure must still fail: one that passes means the target was fixed and the entry must go. */
async function expectDeparture(target: Target, c: Case): Promise<void> {
  let failed = false;
  try {
    await runCase(target, c);
  } catch {
    failed = true;
  }
  if (!failed) {
    throw new Error(`${c.id} passes on ${target.name} now: remove it from ${target.name}'s departures`);
  }
}

test('case ids are unique and well formed', () => {
  const ids = cases.map((c) => c.id);
  expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  for (const id of ids) expect(id).toMatch(/^[a-z]+\/[a-z0-9][a-z0-9-.]*$/);
});

for (const target of targets) {
  describe(target.name, () => {
    it('lists departures only for existing cases', () => {
      const ids = new Set(cases.map((c) => c.id));
      expect(Object.keys(target.departures).filter((id) => !ids.has(id))).toEqual([]);
    });
    for (const c of cases) {
      const reason = target.departures[c.id];
      const name = `${c.id}: ${c.title}`;
      if (c.root && !isRoot) {
        it.skip(`${name} [needs root]`, () => {});
      } else if (reason !== undefined) {
        it(`${name} [departure: ${reason}]`, () => expectDeparture(target, c), CASE_MS * 2);
      } else {
        it(name, () => runCase(target, c), CASE_MS * 2);
      }
    }
  });
}
