// The splicer's bookkeeping without a store: what gets spliced, what waits, what is scheduled.
import test from 'ava';
import type { SegmentRecord } from '../../../examples/parsplice/campaign-records.js';
import { pickWeighted, SpliceState } from '../../../examples/parsplice/splice-state.js';
import { seededRandom } from '../../../examples/parsplice/md/index.js';

let seq = 0;
const segment = (start: string, end: string, steps = 100): SegmentRecord =>
  ({ worker: 0, seq: seq++, start, end, steps, transitions: start === end ? 0 : 1, stored: false, offeredSha: '' });

test('a segment is spliced only when it starts where the trajectory ends; others wait in the bank', (t) => {
  const state = new SpliceState('A');
  state.add('s1', segment('B', 'C'));
  t.is(state.splice(), 0, 'B is not the end yet');
  state.add('s2', segment('A', 'A', 50));
  state.add('s3', segment('A', 'B', 70));
  t.is(state.splice(), 3, 'A->A, A->B, then the banked B->C');
  t.deepEqual(state.trajectory, ['s2', 's3', 's1']);
  t.is(state.end, 'C');
  t.is(state.splicedSteps, 220);
  state.add('s4', segment('A', 'A'));
  t.is(state.splice(), 0);
  t.is(state.unused, 1, 'the A->A segment after the trajectory left A is wasted unless it comes back');
  t.deepEqual([...state.states].sort(), ['A', 'B', 'C']);
});

test('the schedule puts the demand where the trajectory will be once the bank is used up', (t) => {
  const state = new SpliceState('A');
  t.deepEqual(state.schedule(4, 16, seededRandom(1)), [['A', 4]], 'nothing known: every future segment from the end');
  state.add('s1', segment('A', 'B'));
  state.add('s2', segment('A', 'A'));
  state.splice(); // the trajectory takes A->B: now at B with A->A banked
  const weights = state.schedule(4, 200, seededRandom(2));
  t.deepEqual(weights, [['B', 4]], 'B was never left: it is assumed to stay there');
  state.add('s3', segment('B', 'A'));
  state.add('s4', segment('B', 'B'));
  const mixed = new Map(state.schedule(6, 400, seededRandom(3)));
  // Every walk from B uses the banked B->A, then A's banked A->A, and needs a segment from A
  // next; walks that come back to B use the banked B->B too. So A is wanted by every walk and
  // the demand per walk is 6 - 2 (or 6 - 3 after B->B).
  t.true(mixed.get('A')! >= 1, `A wanted ${mixed.get('A')}`);
  const total = [...mixed.values()].reduce((a, b) => a + b, 0);
  t.true(total >= 3 && total < 4, `demand per walk ${total}`);
});

test('pickWeighted follows the weights', (t) => {
  const random = seededRandom(7);
  const counts = new Map<string, number>();
  for (let i = 0; i < 10_000; i++) {
    const label = pickWeighted([['x', 3], ['y', 1]], random);
    counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  const x = counts.get('x')! / 10_000;
  t.true(x > 0.72 && x < 0.78, `x picked ${x}`);
  t.is(pickWeighted([['only', 0.5]], random), 'only');
});
