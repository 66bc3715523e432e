// One suite (@zufs/conformance), run unchanged against node:fs (the oracle: a case that fails there is
// wrong), memfs (a second reference, with its departures) and zufs (the face on pmemfs). A case a
// target lists in its departures still runs and must fail there; the reason is in the test's name.

import { cases, expectDeparture, nodefs, runCase, type Target, zufsTarget } from '@zufs/conformance';
import { PMEMFS_TYPE } from '@zufs/example-pmemfs';
import { afterAll, describe, expect, it, test } from 'vitest';
import { memfsTarget } from './memfs.js';

const isRoot = process.geteuid?.() === 0;

/** zufs should depart nowhere: its departures are its to-do list. */
const zufs = zufsTarget({
  name: 'zufs',
  filesystem: PMEMFS_TYPE,
  type: 'pmemfs',
  options: `memory=${8 * 1024 * 1024}`,
});
const targets: Target[] = [nodefs, memfsTarget, zufs];
afterAll(async () => {
  for (const t of targets) await t.close?.();
});

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
        it(`${name} [departure: ${reason}]`, () => expectDeparture(target, c));
      } else {
        it(name, () => runCase(target, c));
      }
    }
  });
}
