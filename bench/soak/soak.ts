import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '../../client/client.js';
import { launchLocalGroup } from '../../server/launcher.js';
import { rssMiB } from './process-rss.js';
import { SOAK_OPS, SoakWorker, zeroOpCounts, type SoakOp } from './soak-worker.js';

export interface SoakOptions {
  /** How long the workload runs, in minutes (fractions allowed). */
  minutes: number;
  servers: number;
  /** Workers, each with its own client and its own keys. */
  workers: number;
  /** Keys each worker owns. */
  keysPerWorker: number;
  valueBytesMax: number;
  /** How often each worker verifies every key it owns, in milliseconds. */
  verifyEveryMs: number;
  /** How often a sample (ops/s, RSS) is taken and reported, in milliseconds. */
  sampleEveryMs: number;
  seed: number;
  /** Called with each sample as it is taken. */
  onSample?: (sample: SoakSample) => void;
}

export const DEFAULT_SOAK_OPTIONS: Readonly<Omit<SoakOptions, 'minutes'>> = Object.freeze({
  servers: 3, workers: 6, keysPerWorker: 2000, valueBytesMax: 1024, verifyEveryMs: 15_000, sampleEveryMs: 10_000, seed: 1,
});

export interface SoakSample {
  /** Seconds since the workload started. */
  atSeconds: number;
  /** Operations per second since the previous sample, all kinds together. */
  opsPerSecond: number;
  /** Operations of each kind since the previous sample. */
  ops: Record<SoakOp, number>;
  /** Resident memory of each server process, in MiB (null where it cannot be read). */
  serverRssMiB: Array<number | null>;
  /** Resident memory of this (the clients') process, in MiB. */
  clientRssMiB: number;
  /** Problems (mismatches and errors) so far. */
  problems: number;
}

export interface SoakReport {
  options: Omit<SoakOptions, 'onSample'>;
  seconds: number;
  operations: number;
  opsPerSecond: number;
  ops: Record<SoakOp, number>;
  /** Mean time of one operation of each kind, in milliseconds. */
  meanMs: Record<SoakOp, number>;
  /** Full verifications of a worker's keys that ran (each worker verifies on its own clock and once at the end). */
  verifications: number;
  problems: number;
  problemSamples: string[];
  samples: SoakSample[];
  /** Each server's RSS at the first and the last sample, in MiB. */
  serverRssFirstMiB: Array<number | null>;
  serverRssLastMiB: Array<number | null>;
}

/**
 * `npm run soak`: a local group of server processes under a steady mixed workload (puts, gets,
 * deletes, batches, write-once puts, scans, server-side filters and reductions) from several
 * clients for a set time; every answer is checked against each worker's model and every key is
 * verified periodically; throughput and each process's RSS are sampled over time.
 */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-soak-'));
  const group = await launchLocalGroup({ servers: options.servers, dir, transport: 'tcp' });
  const clients: Client[] = [];
  try {
    for (let i = 0; i < options.workers; i++) clients.push(await Client.open(group.groupFile));
    const workers = clients.map((client, id) => new SoakWorker({
      id, client, keys: options.keysPerWorker, valueBytesMax: options.valueBytesMax, seed: options.seed * 1000 + id,
    }));
    const pids = group.processes.map((child) => child.pid);
    const started = Date.now();
    const endAt = started + options.minutes * 60_000;
    const samples: SoakSample[] = [];
    let previous = zeroOpCounts();
    let previousAt = started;
    const sample = async (): Promise<void> => {
      const now = Date.now();
      const totals = zeroOpCounts();
      for (const worker of workers) for (const op of SOAK_OPS) totals[op] += worker.counts[op];
      const ops = zeroOpCounts();
      let sum = 0;
      for (const op of SOAK_OPS) { ops[op] = totals[op] - previous[op]; sum += ops[op]; }
      const s: SoakSample = {
        atSeconds: (now - started) / 1000,
        opsPerSecond: sum / Math.max(0.001, (now - previousAt) / 1000),
        ops,
        serverRssMiB: await Promise.all(pids.map(async (pid) => (pid === undefined ? null : (await rssMiB(pid)) ?? null))),
        clientRssMiB: process.memoryUsage.rss() / (1024 * 1024),
        problems: workers.reduce((n, w) => n + w.problems, 0),
      };
      previous = totals;
      previousAt = now;
      samples.push(s);
      options.onSample?.(s);
    };
    // Samples on a timer while the workers run; the workers stop themselves at endAt.
    let sampling = Promise.resolve();
    const timer = setInterval(() => { sampling = sampling.then(sample); }, options.sampleEveryMs);
    try {
      await Promise.all(workers.map((worker) => worker.run(() => Date.now() >= endAt, options.verifyEveryMs)));
    } finally {
      clearInterval(timer);
    }
    await sampling;
    await sample();
    const seconds = (Date.now() - started) / 1000;
    const ops = zeroOpCounts();
    for (const worker of workers) for (const op of SOAK_OPS) ops[op] += worker.counts[op];
    const operations = SOAK_OPS.reduce((n, op) => n + ops[op], 0);
    const meanMs = zeroOpCounts();
    for (const op of SOAK_OPS) meanMs[op] = ops[op] === 0 ? 0 : workers.reduce((ms, w) => ms + w.elapsedMs[op], 0) / ops[op];
    const { onSample: _onSample, ...plain } = options;
    return {
      options: plain,
      seconds,
      operations,
      opsPerSecond: operations / seconds,
      ops,
      meanMs,
      verifications: ops.verify,
      problems: workers.reduce((n, w) => n + w.problems, 0),
      problemSamples: workers.flatMap((w) => w.problemSamples),
      samples,
      serverRssFirstMiB: samples[0]!.serverRssMiB,
      serverRssLastMiB: samples[samples.length - 1]!.serverRssMiB,
    };
  } finally {
    await Promise.all(clients.map((client) => client.close()));
    await group.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
