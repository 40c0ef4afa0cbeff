import { parseArgs } from 'node:util';
import { formatTable, type BenchReport, type BenchRow } from './bench-report.js';
import { machineInfo } from './machine.js';
import { printReport, runIfMain } from './bench-main.js';
import { runCampaign, type CampaignOptions } from '../examples/parsplice/campaign.js';
import { DEFAULT_ATOMS, DEFAULT_SEGMENT, initialCluster, runSegment, stateLabel } from '../examples/parsplice/md/index.js';
import { availableParallelism } from 'node:os';

/**
 * `npm run bench:parsplice`: the ParSplice campaign of `npm start` as a scalable workload, over
 * workers, servers, segment length and partitioning. Each row is one campaign: segments/s
 * against the local limit, the same workers running segments with no store at all (one
 * process's rate measured here, times the workers the cores can run at once); extra: store
 * requests/s, states discovered/s, and the share of the workers' time spent waiting on the store.
 */
export interface ParspliceConfig {
  id: string;
  servers: number;
  workers: number;
  segmentSteps: number;
  partition: 'hash' | 'range';
}

const CONFIGS: ParspliceConfig[] = [
  { id: 'hash-4s-2w', servers: 4, workers: 2, segmentSteps: 1000, partition: 'hash' },
  { id: 'hash-4s-4w', servers: 4, workers: 4, segmentSteps: 1000, partition: 'hash' },
  { id: 'range-4s-4w', servers: 4, workers: 4, segmentSteps: 1000, partition: 'range' },
  { id: 'hash-2s-4w-short', servers: 2, workers: 4, segmentSteps: 100, partition: 'hash' },
];

/** Segments per second of one process running them back to back with no store. */
function computeOnlyRate(segmentSteps: number, seconds: number): number {
  const start = initialCluster(DEFAULT_ATOMS, 2015);
  let positions = start.positions;
  let label = stateLabel(positions, start.energy);
  const began = process.hrtime.bigint();
  let segments = 0;
  while (Number(process.hrtime.bigint() - began) / 1e9 < seconds) {
    const result = runSegment(positions, label, { ...DEFAULT_SEGMENT, steps: segmentSteps, seed: segments + 1 });
    positions = result.endMinimized;
    label = result.endLabel;
    segments++;
  }
  return segments / (Number(process.hrtime.bigint() - began) / 1e9);
}

export async function runParspliceBench(options: { seconds: number; configs: ParspliceConfig[] }): Promise<BenchReport> {
  const rows: BenchRow[] = [];
  const cores = availableParallelism();
  const alone = new Map<number, number>();
  for (const config of options.configs) {
    if (!alone.has(config.segmentSteps)) alone.set(config.segmentSteps, computeOnlyRate(config.segmentSteps, Math.min(3, options.seconds)));
    const campaign: CampaignOptions = {
      servers: config.servers, workers: config.workers, partition: config.partition, segmentSteps: config.segmentSteps,
      splicedStepsTarget: Number.MAX_SAFE_INTEGER, wallMs: options.seconds * 1000, seed: 7,
    };
    process.stderr.write(`campaign ${config.id}: ${config.servers} servers, ${config.workers} workers, ${config.segmentSteps}-step segments, ${config.partition} ...\n`);
    const s = await runCampaign(campaign);
    const segments = s.workers.reduce((n, w) => n + w.segments, 0);
    const storeMs = s.workers.reduce((n, w) => n + w.storeMs, 0);
    const computeMs = s.workers.reduce((n, w) => n + w.computeMs, 0);
    const limit = alone.get(config.segmentSteps)! * Math.min(config.workers, cores);
    rows.push({
      id: `campaign-${config.id}`,
      what: `${config.workers} workers, ${config.servers} servers (${config.partition}), ${config.segmentSteps}-step segments: segments/s vs the same workers with no store`,
      value: segments / s.wallSeconds, unit: 'segments/s', baseline: limit, ratio: segments / s.wallSeconds / limit,
      extra: {
        storeRequestsPerSecond: Math.round(s.storeRequestsPerSecond), statesPerSecond: Number((s.check.states / s.wallSeconds).toFixed(2)),
        storeWaitPct: Number((100 * storeMs / Math.max(1, storeMs + computeMs)).toFixed(2)), spliced: s.splice.splicedSteps,
        wastedPct: Number((100 * (segments - s.splice.segmentsUsed) / Math.max(1, segments)).toFixed(1)),
      },
    });
  }
  return { machine: machineInfo(), servers: Math.max(...options.configs.map((c) => c.servers)), transport: 'unix', startedAt: new Date().toISOString(), rows };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { json: { type: 'string' }, seconds: { type: 'string' }, quick: { type: 'boolean' } } });
  const seconds = Number(values.seconds ?? (values.quick ? 3 : 15));
  const report = await runParspliceBench({ seconds, configs: values.quick ? [CONFIGS[1]!, CONFIGS[3]!] : CONFIGS });
  await printReport(formatTable(report).replace('hpckv kv bench', 'hpckv parsplice bench (hpckv = campaign, raw = workers with no store)'), report, values.json);
}

runIfMain(import.meta.url, main);
