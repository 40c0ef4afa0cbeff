import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ANY_TAG, type Communicator } from '../core/comm/communicator.js';
import { createWorldCommunicator } from '../core/comm/create-communicator.js';
import { mpiWorldInfo } from '../core/comm/mpi-endpoint.js';
import { runIfMain } from './bench-main.js';
import { machineInfo, type MachineInfo } from './machine.js';
import { percentile, secondsSince } from './stats.js';

/**
 * One rank of `npm run bench:mpi` (started by bench/mpi-bench.ts under `mpirun -np 2`). Both
 * ranks open the world three times: over native MPI, and over the sockets backend on Unix
 * sockets and on loopback TCP (rendezvous in the directory the launcher gives). Rank 0 measures,
 * rank 1 echoes; the backends take turns round by round, so drift on a shared machine hits all
 * alike, and each figure is the median over the rounds. Everything goes through the
 * Communicator (send/recv), as hpckv's own collectives and facades use it.
 *
 *   rtt-64B / rtt-4KiB   one message there and back, one at a time: p50 µs
 *   stream-4KiB          rank 0 sends a run of 4 KiB messages back to back, rank 1 answers the
 *                        last: µs per message (and MB/s)
 */

const PING = 1;
const STREAM = 2;
const STREAM_END = 3;
const STOP = 4;

export type BackendName = 'mpi' | 'unix' | 'tcp';
export const BACKENDS: readonly BackendName[] = ['mpi', 'unix', 'tcp'];

export interface MpiBenchRow {
  id: string;
  what: string;
  unit: string;
  /** Median over the rounds, per backend. */
  values: Record<BackendName, number>;
  /** Sockets (unix) / MPI: above 1, MPI is faster. */
  ratio: number;
}

export interface MpiBenchReport {
  machine: MachineInfo;
  mpi: { library: string; threadLevel: string };
  rounds: number;
  startedAt: string;
  rows: MpiBenchRow[];
}

interface Sizes { rttSamples: number; streamMessages: number; rounds: number }

/** Rank 1: echoes pings, counts a stream and acknowledges its end, until told to stop. */
async function echo(comm: Communicator): Promise<void> {
  let streamed = 0;
  for (;;) {
    const { tag, data } = await comm.recv(0, ANY_TAG);
    if (tag === STOP) return;
    if (tag === PING) await comm.send(0, PING, data);
    else if (tag === STREAM) streamed++;
    else if (tag === STREAM_END) {
      await comm.send(0, STREAM_END, streamed);
      streamed = 0;
    }
  }
}

/** p50 round trip in µs. */
async function roundTrip(comm: Communicator, bytes: number, samples: number): Promise<number> {
  const payload = new Uint8Array(bytes).fill(7);
  const times: number[] = [];
  for (let i = 0; i < samples + samples / 10; i++) {
    const start = process.hrtime.bigint();
    await comm.send(1, PING, payload);
    await comm.recv(1, PING);
    if (i >= samples / 10) times.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  times.sort((a, b) => a - b);
  return percentile(times, 50);
}

/** µs per message of a back-to-back run of `count` messages of `bytes`, until the receiver has them all. */
async function streamRun(comm: Communicator, bytes: number, count: number): Promise<number> {
  const payload = new Uint8Array(bytes).fill(9);
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) await comm.send(1, STREAM, payload);
  await comm.send(1, STREAM_END, null);
  const { data } = await comm.recv<number>(1, STREAM_END);
  if (data !== count) throw new Error(`stream: rank 1 received ${data} of ${count} messages`);
  return (secondsSince(start) * 1e6) / count;
}

function median(values: number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

async function measure(worlds: Record<BackendName, Communicator>, sizes: Sizes): Promise<MpiBenchRow[]> {
  const cases = [
    { id: 'rtt-64B', what: 'round trip, 64 B each way, one at a time (p50)', run: (c: Communicator) => roundTrip(c, 64, sizes.rttSamples) },
    { id: 'rtt-4KiB', what: 'round trip, 4 KiB each way, one at a time (p50)', run: (c: Communicator) => roundTrip(c, 4096, sizes.rttSamples) },
    { id: 'stream-4KiB', what: `stream of ${sizes.streamMessages} x 4 KiB, per message`, run: (c: Communicator) => streamRun(c, 4096, sizes.streamMessages) },
  ];
  const samples = new Map<string, Record<BackendName, number[]>>(cases.map((c) => [c.id, { mpi: [], unix: [], tcp: [] }]));
  // One untimed round first: JIT, connections and MPI's lazily made shared-memory paths.
  for (let round = -1; round < sizes.rounds; round++) {
    for (const testCase of cases) {
      for (const backend of BACKENDS) {
        const value = await testCase.run(worlds[backend]);
        if (round >= 0) samples.get(testCase.id)![backend].push(value);
      }
    }
  }
  return cases.map((testCase) => {
    const perBackend = samples.get(testCase.id)!;
    const values = { mpi: median(perBackend.mpi), unix: median(perBackend.unix), tcp: median(perBackend.tcp) };
    return { id: testCase.id, what: testCase.what, unit: 'µs', values, ratio: values.unix / values.mpi };
  });
}

function format(value: number): string {
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(1);
}

export function formatMpiTable(report: MpiBenchReport): string {
  const header = ['row', 'mpi', 'unix sockets', 'tcp loopback', 'unit', 'ratio unix/mpi', 'ratio tcp/mpi'];
  const lines = report.rows.map((row) => [row.id, format(row.values.mpi), format(row.values.unix), format(row.values.tcp), row.unit,
    row.ratio.toFixed(2) + 'x', (row.values.tcp / row.values.mpi).toFixed(2) + 'x']);
  const widths = header.map((h, c) => Math.max(h.length, ...lines.map((l) => l[c]!.length)));
  const fmt = (cells: string[]): string => cells.map((cell, c) => (c === 0 || c === 4 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  const stream = report.rows.find((row) => row.id === 'stream-4KiB');
  const rate = stream === undefined ? '' : `\nstream-4KiB as MB/s: ${BACKENDS.map((b) => `${b} ${(4096 / stream.values[b]).toFixed(0)}`).join(', ')}`;
  return [
    `hpckv communicator bench: 2 ranks under mpirun, ${report.machine.cores} cores (${report.machine.cpuModel}), node ${report.machine.node}`,
    `MPI: ${report.mpi.library}; thread level provided: ${report.mpi.threadLevel}; median of ${report.rounds} rounds, backends alternating`,
    fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...lines.map(fmt),
    'ratio = sockets / mpi (above 1 means the mpi backend is faster)' + rate,
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { dir: { type: 'string' }, quick: { type: 'boolean' }, json: { type: 'string' } } });
  if (values.dir === undefined) throw new Error('usage: mpi-bench-rank --dir RENDEZVOUS_DIR [--quick] [--json FILE] (under mpirun -np 2)');
  const mpi = await createWorldCommunicator({ backend: 'mpi' });
  if (mpi.size !== 2) throw new Error(`bench:mpi runs on 2 ranks, not ${mpi.size}`);
  const { rank, size } = mpi;
  const unix = await createWorldCommunicator({ rank, size, rendezvous: { dir: join(values.dir, 'unix') }, transport: 'unix' });
  const tcp = await createWorldCommunicator({ rank, size, rendezvous: { dir: join(values.dir, 'tcp') }, transport: 'tcp' });
  const worlds = { mpi, unix, tcp };
  const sizes: Sizes = values.quick === true
    ? { rttSamples: 200, streamMessages: 500, rounds: 2 }
    : { rttSamples: 2000, streamMessages: 5000, rounds: 5 };
  if (rank === 1) {
    await Promise.all(BACKENDS.map((backend) => echo(worlds[backend])));
  } else {
    const rows = await measure(worlds, sizes);
    for (const backend of BACKENDS) await worlds[backend].send(1, STOP, null);
    const info = mpiWorldInfo();
    const report: MpiBenchReport = {
      machine: machineInfo(), mpi: { library: info?.library ?? '?', threadLevel: info?.threadLevel ?? '?' },
      rounds: sizes.rounds, startedAt: new Date().toISOString(), rows,
    };
    process.stdout.write(formatMpiTable(report) + '\n');
    if (values.json !== undefined) {
      await writeFile(values.json, JSON.stringify(report, null, 2) + '\n');
      process.stdout.write(`wrote ${values.json}\n`);
    }
  }
  await tcp.close();
  await unix.close();
  await mpi.close();
}

runIfMain(import.meta.url, main);
