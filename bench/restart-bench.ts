import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client } from '../client/client.js';
import { ErrorCodes, isHpckvError } from '../core/errors.js';
import type { DatabaseStartup } from '../core/protocol/messages.js';
import { launchLocalGroup } from '../server/launcher.js';
import { benchKey, benchValue } from './bench-records.js';
import { machineInfo, type MachineInfo } from './machine.js';
import { ProgressBar } from '../examples/progress-bar.js';

/**
 * `npm run bench:restart`: how long one server takes to serve again after a restart, as its store
 * grows. A 1-server group is loaded with N records (15-byte keys, 100-byte values), then the rank
 * is restarted with `hpckv serve --rejoin` over and over:
 *
 * - clean: the running rank is stopped with SIGTERM (it drains and closes its stores) and started again;
 * - crash: the running rank is killed with SIGKILL and started again.
 *
 * Time to serve runs from spawning the process to the first get answered (polled every 2 ms);
 * time to exact stats from spawning to the first stat answered (stat waits for a background
 * count); time to a complete key filter from spawning to the first stat (polled every 20 ms)
 * whose `keysReadyMs` is set (until then writes read old values). With `--before-bin` another
 * build (e.g. the code before a change) takes turns with this one on the same store, round by
 * round. Each round also restarts this build on an empty store: the floor (process start, module
 * loading, LevelDB open) that no store size goes below. Caches are warm: the store was just
 * written or read.
 */

const BIN = fileURLToPath(new URL('../bin/hpckv.js', import.meta.url));
const KEY_BYTES_NOTE = '15-byte keys';
const VALUE_BYTES = 100;
const LOAD_BATCH = 1000;
const LOADS_IN_FLIGHT = 8;
const POLL_MS = 2;
const KEYS_POLL_MS = 20;

type RestartCase = 'clean' | 'crash';

interface Build { name: string; bin: string }

interface Sample {
  /** Spawn to the first get answered. */
  serveMs: number;
  /** Spawn to the first stat answered (exact stats). */
  statsMs: number;
  /** Spawn to the first stat saying the key filter is complete. */
  keysMs: number;
  /** How the server says it got its stats (DatabaseStartup.summary), when it says. */
  summary: string;
  /** SIGTERM to exit of the server stopped before a clean restart (its close writes the summary). */
  stopMs?: number;
}

export interface RestartRow {
  build: string;
  case: RestartCase;
  /** 'loaded': the N records; 'empty': the floor. */
  store: 'loaded' | 'empty';
  samples: Sample[];
}

export interface RestartReport {
  machine: MachineInfo;
  records: number;
  valueBytes: number;
  storeBytes: number;
  summaryBytes: number;
  rows: RestartRow[];
}

interface Running { build: Build; child: ChildProcess; exited: Promise<void> }

class RestartBench {
  readonly #groupFile: string;
  readonly #dataDir: string;
  readonly #client: Client;
  readonly #probe: Buffer;
  #running: Running | null = null;

  constructor(groupFile: string, dataDir: string, client: Client, probe: Buffer) {
    this.#groupFile = groupFile;
    this.#dataDir = dataDir;
    this.#client = client;
    this.#probe = probe;
  }

  /** Restarts the rank as `restart` says and times it; the rank is left running, stats exact. */
  async measure(build: Build, restart: RestartCase): Promise<Sample> {
    await this.#ensureRunning(build);
    let stopMs: number | undefined;
    if (restart === 'clean') {
      const start = performance.now();
      await this.#stop('SIGTERM');
      stopMs = performance.now() - start;
    } else {
      await this.#stop('SIGKILL');
    }
    const sample = await this.#start(build);
    return stopMs === undefined ? sample : { ...sample, stopMs };
  }

  async close(): Promise<void> {
    if (this.#running !== null) await this.#stop('SIGTERM');
  }

  /** A rank of `build` that has finished any count, so a stop now is a stop of a settled server. */
  async #ensureRunning(build: Build): Promise<void> {
    if (this.#running?.build === build) return;
    if (this.#running !== null) await this.#stop('SIGTERM');
    await this.#start(build);
  }

  async #start(build: Build): Promise<Sample> {
    const started = performance.now();
    const child = spawn(process.execPath, ['--no-node-snapshot', build.bin, 'serve', '--rejoin', this.#groupFile, '--rank', '0', '--data', this.#dataDir],
      { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-4000); });
    const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
    this.#running = { build, child, exited };
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${build.name} rank exited before serving: ${stderr}`);
      try {
        await this.#client.get(this.#probe);
        break;
      } catch (error) {
        const down = isHpckvError(error, ErrorCodes.CONNECT_FAILED) || isHpckvError(error, ErrorCodes.CONNECTION_CLOSED);
        if (!down) throw error;
        await new Promise((resolveWait) => setTimeout(resolveWait, POLL_MS));
      }
    }
    const serveMs = performance.now() - started;
    // No timeout: a count of 10M records outlasts the default 30 s.
    let startup = await this.#startup();
    const statsMs = performance.now() - started;
    while (startup !== null && startup.keysReadyMs < 0) {
      await new Promise((resolveWait) => setTimeout(resolveWait, KEYS_POLL_MS));
      startup = await this.#startup();
    }
    const keysMs = performance.now() - started;
    return { serveMs, statsMs, keysMs, summary: startup?.summary ?? 'counted before serving' };
  }

  /** The database's start-up report; null from a build from before it had one. */
  async #startup(): Promise<DatabaseStartup | null> {
    const [reply] = await this.#client.stat({ timeoutMs: 0 });
    return (reply?.startup as Record<string, DatabaseStartup> | undefined)?.['default'] ?? null;
  }

  async #stop(signal: NodeJS.Signals): Promise<void> {
    const running = this.#running;
    if (running === null) return;
    running.child.kill(signal);
    await running.exited;
    this.#running = null;
  }
}

async function load(client: Client, records: number): Promise<void> {
  const bar = new ProgressBar(`loading ${records} records`, records);
  let next = 0;
  const loader = async (): Promise<void> => {
    while (next < records) {
      const start = next;
      next = Math.min(records, start + LOAD_BATCH);
      const entries: Array<readonly [Buffer, Buffer]> = [];
      for (let i = start; i < next; i++) entries.push([benchKey(i), benchValue(i, VALUE_BYTES)]);
      await client.putMany(entries);
      bar.update(next);
    }
  };
  await Promise.all(Array.from({ length: LOADS_IN_FLIGHT }, loader));
  bar.finish();
}

async function directoryBytes(path: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const full = join(path, entry.name);
    total += entry.isDirectory() ? await directoryBytes(full) : (await stat(full)).size;
  }
  return total;
}

export async function runRestartBench(options: { records: number; rounds: number; beforeBin?: string }): Promise<RestartReport> {
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-restart-bench-'));
  const builds: Build[] = [{ name: 'this build', bin: BIN }];
  if (options.beforeBin !== undefined) builds.unshift({ name: 'before', bin: resolve(options.beforeBin) });
  const rows: RestartRow[] = builds.flatMap((build) => (['clean', 'crash'] as const)
    .map((restart) => ({ build: build.name, case: restart, store: 'loaded' as const, samples: [] })));
  rows.push({ build: builds[builds.length - 1]!.name, case: 'clean', store: 'empty', samples: [] });
  let storeBytes = 0;
  let summaryBytes = 0;
  const groups = { loaded: await launchLocalGroup({ servers: 1, dir: join(dir, 'loaded') }), empty: await launchLocalGroup({ servers: 1, dir: join(dir, 'empty') }) };
  const clients = { loaded: await Client.open(groups.loaded.groupFile), empty: await Client.open(groups.empty.groupFile) };
  const benches: Partial<Record<RestartRow['store'], RestartBench>> = {};
  try {
    await load(clients.loaded, options.records);
    await Promise.all([groups.loaded.stop(), groups.empty.stop()]);
    const store = join(dir, 'loaded', 'data', 'rank-0', 'default');
    storeBytes = await directoryBytes(store);
    benches.loaded = new RestartBench(groups.loaded.groupFile, join(dir, 'loaded', 'data'), clients.loaded, benchKey(Math.floor(options.records / 2)));
    benches.empty = new RestartBench(groups.empty.groupFile, join(dir, 'empty', 'data'), clients.empty, benchKey(0));
    for (let round = 1; round <= options.rounds; round++) {
      for (const row of rows) {
        const build = builds.find((b) => b.name === row.build)!;
        const sample = await benches[row.store]!.measure(build, row.case);
        row.samples.push(sample);
        process.stderr.write(`round ${round}: ${row.build}, ${row.case} restart, ${row.store} store: serving after ${sample.serveMs.toFixed(0)} ms, `
          + `exact stats after ${sample.statsMs.toFixed(0)} ms, full key filter after ${sample.keysMs.toFixed(0)} ms (${sample.summary})\n`);
      }
    }
    await benches.loaded.close();
    // Written by that last clean stop (none from a build that does not write one).
    summaryBytes = await stat(join(store, 'hpckv-summary')).then((s) => s.size, () => 0);
  } finally {
    await benches.loaded?.close();
    await benches.empty?.close();
    await clients.loaded.close();
    await clients.empty.close();
    await rm(dir, { recursive: true, force: true });
  }
  return { machine: machineInfo(), records: options.records, valueBytes: VALUE_BYTES, storeBytes, summaryBytes, rows };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function seconds(values: readonly number[]): string {
  if (values.length === 0) return '-';
  return `${(median(values) / 1000).toFixed(2)} s (${(Math.min(...values) / 1000).toFixed(2)}-${(Math.max(...values) / 1000).toFixed(2)})`;
}

export function formatRestartReport(report: RestartReport): string {
  const header = ['build', 'restart', 'time to serve', 'time to exact stats', 'time to full key filter', 'stop (SIGTERM to exit)', 'stats from'];
  const lines = report.rows.map((row) => [
    row.build, (row.case === 'clean' ? 'clean stop, --rejoin' : 'kill -9, --rejoin') + (row.store === 'empty' ? ' (empty store)' : ''),
    seconds(row.samples.map((s) => s.serveMs)), seconds(row.samples.map((s) => s.statsMs)), seconds(row.samples.map((s) => s.keysMs)),
    seconds(row.samples.flatMap((s) => (s.stopMs === undefined ? [] : [s.stopMs]))),
    [...new Set(row.samples.map((s) => s.summary))].join(', '),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...lines.map((l) => l[c]!.length)));
  const fmt = (cells: string[]): string => cells.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd();
  const m = report.machine;
  return [
    `hpckv restart bench: ${report.records} records (${KEY_BYTES_NOTE}, ${report.valueBytes}-byte values), store ${(report.storeBytes / 2 ** 20).toFixed(0)} MiB, `
      + `summary ${(report.summaryBytes / 2 ** 20).toFixed(1)} MiB; ${m.cores} cores (${m.cpuModel}), node ${m.node}`,
    `medians of ${report.rows[0]?.samples.length ?? 0} restarts (min-max)`,
    fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...lines.map(fmt),
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    records: { type: 'string' }, rounds: { type: 'string' }, 'before-bin': { type: 'string' }, json: { type: 'string' },
  } });
  const records = Number(values.records ?? 1_000_000);
  const rounds = Number(values.rounds ?? 3);
  if (!Number.isSafeInteger(records) || records < 0) throw new TypeError('--records is a count of records');
  if (!Number.isSafeInteger(rounds) || rounds < 1) throw new TypeError('--rounds is a positive count');
  const report = await runRestartBench({ records, rounds, ...(values['before-bin'] === undefined ? {} : { beforeBin: values['before-bin'] }) });
  process.stdout.write(formatRestartReport(report) + '\n');
  if (values.json !== undefined) await writeFile(values.json, JSON.stringify(report, null, 2) + '\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  });
}
