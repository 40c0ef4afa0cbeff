import { runCampaign, type CampaignOptions, type CampaignSummary } from './campaign.js';

/** LJ time unit for argon (sigma 3.405 Å, epsilon/k_B 119.8 K, 39.95 u), in picoseconds. */
const ARGON_TAU_PS = 2.156;

/**
 * Shorter than the engine's default segment: early in a campaign the cluster is still in shallow,
 * high-energy basins and leaves most of them within 2000 steps; ParSplice pays off when a segment
 * is short next to the time spent in a state.
 */
const DEMO_SEGMENT_STEPS = 500;

export interface DemoOptions {
  servers: number;
  workers: number;
  seconds: number;
}

/**
 * The main job behind `npm start`: a ParSplice-style molecular dynamics campaign on an embedded
 * group (examples/parsplice/campaign.ts), with a progress bar, then what it found and how the store
 * served it, checked back from the store, and a server-side query over the states.
 */
export async function runDemo(options: DemoOptions): Promise<void> {
  process.stdout.write(`ParSplice on hpckv: ${options.servers} servers, ${options.workers} MD workers and a splicer ` +
    `(separate processes sharing nothing but the store), about ${options.seconds} s of work\n`);
  const campaign: CampaignOptions = {
    servers: options.servers, workers: options.workers, partition: 'hash', segmentSteps: DEMO_SEGMENT_STEPS,
    splicedStepsTarget: Number.MAX_SAFE_INTEGER, wallMs: options.seconds * 1000, seed: 2015, progress: true,
  };
  const summary = await runCampaign(campaign);
  process.stdout.write(formatSummary(summary));
  const c = summary.check;
  if (c.breaks !== 0 || c.missingStates !== 0 || c.overwritten !== 0 || c.storedTwice !== 0) {
    throw new Error('the campaign read back from the store is not consistent (see above)');
  }
}

export function formatSummary(s: CampaignSummary): string {
  const lines: string[] = [];
  const tau = s.splice.splicedSteps * s.dt;
  const made = s.workers.reduce((n, w) => n + w.segments, 0);
  const storeMs = s.workers.reduce((n, w) => n + w.storeMs, 0);
  const computeMs = s.workers.reduce((n, w) => n + w.computeMs, 0);
  const workerOps = s.workers.reduce((n, w) => n + w.storeOps, 0);
  lines.push('');
  lines.push(`spliced trajectory: ${s.splice.splicedSteps.toLocaleString('en-US')} MD steps = ${tau.toFixed(1)} τ ` +
    `(${(tau * ARGON_TAU_PS / 1000).toFixed(3)} ns for argon) in ${s.wallSeconds.toFixed(1)} s, ending in state ${s.splice.end.slice(0, 12)}`);
  lines.push(`states discovered: ${s.check.states} (minima of the LJ${s.atoms} cluster), ` +
    `${s.workers.reduce((n, w) => n + w.statesKnown, 0)} rediscoveries refused by write-once puts`);
  lines.push(`segments: ${made} run, ${s.splice.segmentsUsed} spliced, ${made - s.splice.segmentsUsed} wasted ` +
    `(${made === 0 ? 0 : (100 * (made - s.splice.segmentsUsed) / made).toFixed(0)}%)`);
  lines.push(`store: ${s.storeRequests.toLocaleString('en-US')} requests, ${Math.round(s.storeRequestsPerSecond).toLocaleString('en-US')}/s; ` +
    `workers made ${workerOps} store calls and spent ${(100 * storeMs / Math.max(1, storeMs + computeMs)).toFixed(1)}% of their time waiting on the store`);
  lines.push(`checked from the store: ${s.check.splicedSegments} spliced segments continuous (${s.check.breaks} breaks), ` +
    `${s.check.missingStates} missing states, ${s.check.overwritten} overwritten`);
  lines.push('');
  lines.push('worker  segments  MD steps  stored  known  store ms  compute ms');
  for (const w of s.workers) {
    lines.push(`${String(w.worker).padStart(6)}  ${String(w.segments).padStart(8)}  ${String(w.steps).padStart(8)}  ${String(w.statesStored).padStart(6)}  ` +
      `${String(w.statesKnown).padStart(5)}  ${w.storeMs.toFixed(0).padStart(8)}  ${w.computeMs.toFixed(0).padStart(10)}`);
  }
  lines.push('');
  lines.push('server  requests  states  segments  control');
  for (const server of s.servers) {
    const records = (db: string): string => String(server.databases[db]?.records ?? 0);
    lines.push(`${String(server.rank).padStart(6)}  ${String(server.requests).padStart(8)}  ${records('states').padStart(6)}  ` +
      `${records('segments').padStart(8)}  ${records('control').padStart(7)}`);
  }
  lines.push('');
  lines.push(`server-side reduce over the states: ${s.energies.n} states, energy ${s.energies.min.toFixed(4)} .. ${s.energies.max.toFixed(4)} ε ` +
    `(mean ${(s.energies.sum / Math.max(1, s.energies.n)).toFixed(4)})`);
  lines.push(`server-side filter, states within ${s.threshold} ε of the lowest (only they travel back): ${s.lowStates.length}`);
  for (const state of s.lowStates.slice(0, 10)) lines.push(`  ${state.label.slice(0, 16)}  ${state.energy.toFixed(4)} ε`);
  if (s.lowStates.length > 10) lines.push(`  ... and ${s.lowStates.length - 10} more`);
  lines.push('');
  return `${lines.join('\n')}\n`;
}
