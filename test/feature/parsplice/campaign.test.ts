// A short ParSplice campaign end to end: real server processes, a splicer and two worker
// processes that share nothing but the store; then the whole campaign is read back and checked.
import test from 'ava';
import { runCampaign } from '../../../examples/parsplice/campaign.js';

for (const partition of ['hash', 'range'] as const) {
  test(`a short campaign splices a continuous trajectory, loses no state and overwrites none (${partition})`, async (t) => {
    const segmentSteps = 300;
    const s = await runCampaign({
      servers: 2, workers: 2, partition, segmentSteps, splicedStepsTarget: 40 * segmentSteps, wallMs: 60_000, seed: partition === 'hash' ? 11 : 12,
    });
    // The splicer stops at the target (the wall limit is far away).
    t.true(s.splice.splicedSteps >= 40 * segmentSteps, `spliced ${s.splice.splicedSteps} steps`);
    t.is(s.splice.splicedSteps, s.splice.trajectory.length * segmentSteps);
    t.deepEqual(s.check, {
      splicedSegments: s.splice.trajectory.length, breaks: 0, segments: s.workers.reduce((n, w) => n + w.segments, 0), missingStates: 0,
      states: s.check.states, overwritten: 0, storedTwice: 0,
    });
    t.is(s.check.states, 1 + s.workers.reduce((n, w) => n + w.statesStored, 0), 'every state but the initial one was stored by exactly one worker');
    t.true(s.check.states >= 2, 'the cluster left its first basin');
    // The server-side reduce saw every state; the map returned exactly those near the lowest.
    t.is(s.energies.n, s.check.states);
    t.true(s.lowStates.length >= 1);
    t.is(s.lowStates[0]!.energy, s.energies.min);
    t.true(s.lowStates.every((state) => state.energy < s.energies.min + s.threshold));
    t.true(s.storeRequests > 0 && s.servers.length === 2);
  });
}
