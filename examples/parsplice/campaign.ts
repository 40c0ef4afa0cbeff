import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Client, launchLocalGroup, type PartitionSpec, type StatReply } from '../../index.js';
import { ProgressBar } from '../progress-bar.js';
import {
  CAMPAIGN_DATABASES, decodeRecord, encodeRecord, PROGRESS_KEY, SCHEDULE_KEY, SPLICE_KEY, workerStatsKey,
  type ProgressRecord, type SpliceRecord, type StateRecord, type WorkerStats,
} from './campaign-records.js';
import { startCampaignProcess } from './campaign-process.js';
import { DEFAULT_ATOMS, DEFAULT_SEGMENT, initialCluster, stateLabel, toStoredState } from './md/index.js';
import { checkCampaign, type CampaignCheck } from './verify.js';

export interface CampaignOptions {
  servers: number;
  workers: number;
  partition: 'hash' | 'range';
  /** MD steps per segment. */
  segmentSteps: number;
  /** The splicer stops at this many spliced steps or after wallMs, whichever comes first. */
  splicedStepsTarget: number;
  wallMs: number;
  seed: number;
  atoms?: number;
  /** Draw a progress bar on stderr. */
  progress?: boolean;
}

export interface CampaignSummary {
  options: CampaignOptions;
  wallSeconds: number;
  atoms: number;
  /** MD time step (LJ time units). */
  dt: number;
  splice: SpliceRecord;
  check: CampaignCheck;
  workers: WorkerStats[];
  /** Requests the servers answered during the campaign (all clients), and per second. */
  storeRequests: number;
  storeRequestsPerSecond: number;
  servers: StatReply[];
  /** A server-side reduce over every stored state. */
  energies: { n: number; min: number; max: number; sum: number };
  /** A server-side filter: the states within `threshold` of the lowest energy, lowest first. */
  threshold: number;
  lowStates: Array<{ label: string; energy: number }>;
}

/** Reduce over the stored states: count and energy range (run next to the data). */
const ENERGY_STATS = {
  kind: 'reduce' as const,
  source: `({
    init: () => ({ n: 0, min: null, max: null, sum: 0 }),
    step: (acc, key, value) => {
      const e = hpckv.msgpackGet(value, 'energy');
      acc.n++; acc.sum += e;
      if (acc.min === null || e < acc.min) acc.min = e;
      if (acc.max === null || e > acc.max) acc.max = e;
      return acc;
    },
    combine: (a, b) => ({ n: a.n + b.n, sum: a.sum + b.sum,
      min: a.min === null ? b.min : b.min === null ? a.min : Math.min(a.min, b.min),
      max: a.max === null ? b.max : b.max === null ? a.max : Math.max(a.max, b.max) }),
  })`,
};

/** Filter over the stored states: those below args.below (the test reads the one field it needs). */
const LOW_ENERGY = {
  kind: 'filter' as const,
  source: `(key, value, args) => hpckv.msgpackGet(value, 'energy') < args.below`,
};

/** Range boundaries for labels (hex digests): even splits of the first hex digit. */
function labelRanges(servers: number): PartitionSpec {
  const boundaries = Array.from({ length: servers - 1 }, (_, i) => '0123456789abcdef'[Math.floor((16 * (i + 1)) / servers)]!);
  return { scheme: 'range', boundaries: boundaries.map((b) => Buffer.from(b).toString('base64')), epoch: 0 };
}

/**
 * One ParSplice campaign on an embedded group: the launcher stores the initial state and the
 * first schedule, starts the splicer and the worker processes (they share nothing but the store),
 * follows the splicer's progress, then checks the whole campaign back, runs a server-side
 * reduce and filter over the stored states, and stops the group.
 */
export async function runCampaign(options: CampaignOptions): Promise<CampaignSummary> {
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-parsplice-'));
  const group = await launchLocalGroup({
    servers: options.servers, dir, databases: ['default', ...CAMPAIGN_DATABASES],
    ...(options.partition === 'range' && options.servers > 1 ? { partition: labelRanges(options.servers) } : {}),
  });
  const client = await Client.open(group.groupFile);
  const children: Array<ReturnType<typeof startCampaignProcess>> = [];
  try {
    const atoms = options.atoms ?? DEFAULT_ATOMS;
    const start = initialCluster(atoms, options.seed);
    const initial = stateLabel(start.positions, start.energy);
    const initialBytes = encodeRecord({ ...toStoredState(initial, start.energy, start.positions), foundBy: -1 } satisfies StateRecord);
    await client.putIfAbsent(initial, initialBytes, { db: 'states' });
    await client.put(SCHEDULE_KEY, encodeRecord({ version: 0, entries: [[initial, 1]], segmentSteps: options.segmentSteps, stop: false }), { db: 'control' });
    const before = await client.stat();
    const started = process.hrtime.bigint();
    const splicer = startCampaignProcess('splicer', new URL('./splicer-main.js', import.meta.url), {
      groupFile: group.groupFile, initial, workers: options.workers, segmentSteps: options.segmentSteps,
      splicedStepsTarget: options.splicedStepsTarget, wallMsMax: options.wallMs, seed: options.seed,
    });
    children.push(splicer);
    for (let worker = 0; worker < options.workers; worker++) {
      children.push(startCampaignProcess(`worker ${worker}`, new URL('./worker-main.js', import.meta.url),
        { groupFile: group.groupFile, worker, seed: options.seed }));
    }
    const all = Promise.all(children.map((c) => c.exited));
    all.catch(() => undefined);
    if (options.progress === true) await showProgress(client, options, all);
    await all;
    const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    const after = await client.stat();
    const splice = decodeRecord<SpliceRecord>((await client.get(SPLICE_KEY, { db: 'control' }))!);
    const workers = (await client.getMany(Array.from({ length: options.workers }, (_, w) => workerStatsKey(w)), { db: 'control' }))
      .map((bytes) => decodeRecord<WorkerStats>(bytes!));
    const check = await checkCampaign(client, splice, createHash('sha256').update(initialBytes).digest('hex'));
    const energies = await (await client.execute(ENERGY_STATS, { db: 'states' })).wait() as CampaignSummary['energies'];
    const threshold = 0.1;
    const low = await (await client.execute(LOW_ENERGY, { db: 'states', args: { below: energies.min + threshold } })).wait() as Array<[unknown, Buffer]>;
    const lowStates = low.map(([, value]) => decodeRecord<StateRecord>(value)).map(({ label, energy }) => ({ label, energy }));
    const storeRequests = after.reduce((n, s) => n + s.requests, 0) - before.reduce((n, s) => n + s.requests, 0);
    return {
      options, wallSeconds, atoms: options.atoms ?? DEFAULT_ATOMS, dt: DEFAULT_SEGMENT.dt, splice, check, workers, storeRequests, storeRequestsPerSecond: storeRequests / wallSeconds,
      servers: after, energies, threshold,
      lowStates: lowStates.sort((a, b) => a.energy - b.energy),
    };
  } finally {
    for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGKILL');
    await client.shutdownServers().catch(() => undefined);
    await client.close();
    await group.exited;
    await rm(dir, { recursive: true, force: true });
  }
}

/** Redraws the bar from the splicer's progress record until every campaign process has ended. */
async function showProgress(client: Client, options: CampaignOptions, ended: Promise<unknown>): Promise<void> {
  const bar = new ProgressBar('parsplice', 1000);
  let finished = false;
  void ended.then(() => { finished = true; }, () => { finished = true; });
  let last: ProgressRecord | undefined;
  while (!finished) {
    const bytes = await client.get(PROGRESS_KEY, { db: 'control' });
    if (bytes !== undefined) {
      last = decodeRecord<ProgressRecord>(bytes);
      const fraction = Math.max(last.splicedSteps / options.splicedStepsTarget, last.elapsedMs / options.wallMs);
      bar.update(Math.min(999, Math.floor(fraction * 1000)), describe(last));
    }
    await delay(250);
  }
  bar.finish(last === undefined ? undefined : describe(last));
}

function describe(p: ProgressRecord): string {
  return `${(p.elapsedMs / 1000).toFixed(1)} s, ${(p.splicedSteps * DEFAULT_SEGMENT.dt).toFixed(1)} τ spliced, ` +
    `${p.statesSeen} states, ${p.segmentsUsed}/${p.segmentsSeen} segments used`;
}
