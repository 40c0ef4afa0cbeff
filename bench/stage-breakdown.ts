import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { printReport, runIfMain } from './bench-main.js';
import { machineInfo } from './machine.js';
import { timeClientStages, type LoopCounts } from './stages/client-stages.js';
import { EchoFloor, medianFloor, type FloorCpu, type FloorResult } from './stages/echo-floor.js';
import { buildFromDist, currentBuild, runEndToEnd, type EndToEndCounts, type EndToEndResults } from './stages/end-to-end.js';
import { profileScenario } from './stages/profile-run.js';
import { clientPieces, freshKeys, frameBytes, IN_FLIGHT, putManyEnvelopes, SCENARIOS, values, type Scenario } from './stages/request-shapes.js';
import { timeServerStages } from './stages/server-stages.js';
import { formatReport, STAGES, stageSums, type ScenarioReport, type StageReport, type StageRow } from './stages/stage-report.js';
import { DEFAULT_TIMING, type StageTiming, type TimingOptions } from './stages/stage-timers.js';
import { openReadStore, timeStore } from './stages/store-stages.js';

/**
 * `npm run bench:stages`: where one request's time goes. Each stage of a request (client encode,
 * transport, server decode, validate, lock, stats, store, reply encode, client decode) is timed in
 * isolation with hpckv's real components on the message shapes the client sends; the same run
 * measures the transport floor (a bare Node echo) and the whole request end to end, with the
 * CPU time per op of client and server. `--profile DIR` adds CPU profiles of both processes,
 * summarised by stage; `--dist-before DIR` measures an older build end to end beside this one.
 */

export interface StageBreakdownOptions {
  loops: LoopCounts;
  timing: TimingOptions;
  endToEnd: EndToEndCounts;
  rounds: number;
  floorSamples: number;
  profileDir: string | undefined;
  distBefore: string | undefined;
}

function timed(id: StageRow['id'], timing: StageTiming | null, note = '', inSum = true): StageRow {
  const stage = STAGES.find((s) => s.id === id)!;
  return { id, name: stage.name, process: stage.process, usPerOp: timing?.usPerOp ?? null, range: timing?.range ?? null,
    cpuUsPerOp: timing?.cpuUsPerOp ?? null, inSum, note };
}

/** The transport row: the floor measured for this scenario's messages. */
interface Floor { usPerOp: number; cpu: FloorCpu; note: string }

function floorRow(floor: Floor): StageRow {
  const stage = STAGES.find((s) => s.id === 'transport')!;
  return { id: 'transport', name: stage.name, process: stage.process, usPerOp: floor.usPerOp, range: null,
    cpuUsPerOp: floor.cpu.client + floor.cpu.server, floorCpu: floor.cpu, inSum: true, note: floor.note };
}

/** Every stage of one scenario, each in isolation. */
async function timeStages(scenario: Scenario, options: StageBreakdownOptions): Promise<StageRow[]> {
  process.stderr.write(`stages: ${scenario.id} ...\n`);
  const readStore = await openReadStore();
  try {
    const client = await timeClientStages(scenario, options.loops, options.timing);
    const server = await timeServerStages(scenario, options.loops, options.timing, readStore.readStored);
    const store = await timeStore(scenario, options.loops, options.timing);
    const inside = 'inside store (Database takes it): not added again';
    const how = scenario.kind === 'get' ? 'getSync' : scenario.kind === 'bulk' ? 'chained batch' : `db.put, ${scenario.inFlight} in flight`;
    const staged = scenario.kind === 'bulk' && store.oneMessageWrite !== undefined
      ? `; staged part by part and committed (the parts' path); Database.write of the same records (one message): wall ${fmt(store.oneMessageWrite.usPerOp)}, CPU ${fmt(store.oneMessageWrite.cpuUsPerOp)}`
      : '';
    const storeNote = `raw classic-level (${how}): wall ${fmt(store.raw.usPerOp)}, CPU ${fmt(store.raw.cpuUsPerOp)}${staged}`;
    return [
      timed('client-encode', client.encode),
      timed('server-decode', server.decode),
      timed('validate', server.validate),
      timed('lock', server.lock, server.lock === null ? 'a get takes no lock' : inside, false),
      timed('stats-filter', server.statsFilter, server.statsFilter === null ? 'a get changes no stats' : inside, false),
      timed('store', store.hpckv, storeNote),
      timed('reply-encode', server.replyEncode),
      timed('client-decode-resolve', client.decodeResolve),
    ];
  } finally {
    await readStore.close();
  }
}

function fmt(value: number): string {
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

/** Bytes one putMany call of a bulk scenario puts on the wire (all its parts' frames). */
async function bulkRequestBytes(scenario: Scenario): Promise<number> {
  const envelopes = await putManyEnvelopes(clientPieces(), freshKeys(1, scenario.records)[0]!, values(scenario.records, scenario.valueBytes));
  return envelopes.reduce<number>((total, message) => total + frameBytes(message).length, 0);
}

/** The bare echoes the floor is measured with: 4 KiB and 32 B echoed, and each bulk call's bytes answered with 32 B. */
async function startFloors(): Promise<Map<string, EchoFloor>> {
  const floors = new Map<string, EchoFloor>();
  try {
    floors.set('echo-4KiB', await EchoFloor.start(4096, 'echo'));
    floors.set('echo-32B', await EchoFloor.start(32, 'echo'));
    for (const scenario of SCENARIOS) if (scenario.kind === 'bulk') floors.set(scenario.id, await EchoFloor.start(await bulkRequestBytes(scenario), 32));
  } catch (error) {
    for (const floor of floors.values()) await floor.stop();
    throw error;
  }
  return floors;
}

/** One measurement of every floor (a round's worth). */
async function measureFloors(floors: Map<string, EchoFloor>, samples: number, measured: Map<string, FloorResult[]>): Promise<void> {
  process.stderr.write('transport floor: bare Node echo ...\n');
  for (const [name, floor] of floors) {
    const bulk = floor.reply !== 'echo';
    const result = await floor.measure(bulk ? Math.max(5, Math.round(samples / 40)) : samples, bulk ? 0 : samples * 10);
    measured.set(name, [...(measured.get(name) ?? []), result]);
  }
}

/** The transport row of a scenario: the echo of its message size (one at a time or 64 in flight), or its bulk bytes with a short answer. */
function floorOf(scenario: Scenario, floors: Record<string, FloorResult>): Floor {
  if (scenario.kind === 'bulk') {
    const floor = floors[scenario.id]!;
    return { usPerOp: floor.oneInFlightMeanUs, cpu: floor.oneInFlightCpuUs,
      note: `bare Node: ${floor.messageBytes} B there, 32 B back, mean (p50 ${fmt(floor.oneInFlightP50Us)}); CPU: sender + receiver` };
  }
  const echo = floors['echo-4KiB']!;
  return scenario.inFlight === 1
    ? { usPerOp: echo.oneInFlightMeanUs, cpu: echo.oneInFlightCpuUs, note: `bare Node echo of 4 KiB, round trip mean (p50 ${fmt(echo.oneInFlightP50Us)}); CPU: sender + echo process` }
    : { usPerOp: 1e6 / echo.inFlight64MsgsPerS!, cpu: echo.inFlight64CpuUs!, note: `bare Node echo of 4 KiB, ${IN_FLIGHT} in flight: 1 / msgs/s; CPU: sender + echo process` };
}

export async function runStageBreakdown(options: StageBreakdownOptions): Promise<StageReport> {
  const startedAt = new Date().toISOString();
  // Other work on the machine moves wall times (not CPU per op): the report says how busy it was.
  const loadAtStart = loadavg()[0]!;
  const stages = new Map<string, StageRow[]>();
  for (const scenario of SCENARIOS) stages.set(scenario.id, await timeStages(scenario, options));
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-stage-e2e-'));
  const floorServers = await startFloors();
  const measuredFloors = new Map<string, FloorResult[]>();
  let endToEnd: EndToEndResults;
  try {
    const builds = [currentBuild(), ...(options.distBefore === undefined ? [] : [await buildFromDist(options.distBefore)])];
    endToEnd = await runEndToEnd(builds, SCENARIOS, options.endToEnd, options.rounds, dir,
      () => measureFloors(floorServers, options.floorSamples, measuredFloors));
  } finally {
    for (const floor of floorServers.values()) await floor.stop();
    await rm(dir, { recursive: true, force: true });
  }
  const floors = Object.fromEntries([...measuredFloors].map(([name, results]) => [name, medianFloor(results)]));
  const scenarios: ScenarioReport[] = [];
  for (const scenario of SCENARIOS) {
    const measured = stages.get(scenario.id)!;
    // The transport row goes second: it is what the request meets after the client's encode.
    const rows = [measured[0]!, floorRow(floorOf(scenario, floors)), ...measured.slice(1)];
    const report: ScenarioReport = {
      id: scenario.id, title: scenario.title, unit: scenario.unit, stages: rows, sums: stageSums(rows),
      endToEnd: Object.fromEntries(Object.entries(endToEnd).map(([label, results]) => [label, results[scenario.id]!])),
    };
    if (options.profileDir !== undefined) {
      process.stderr.write(`profiles: ${scenario.id} ... (${Math.round(process.uptime())} s into the run)\n`);
      report.profile = await profileScenario(scenario, options.endToEnd, options.profileDir);
    }
    scenarios.push(report);
  }
  return {
    machine: machineInfo(), startedAt,
    options: {
      iterations: options.loops.iterations, bulkIterations: options.loops.bulkIterations, repetitions: options.timing.repetitions,
      warmups: options.timing.warmups, e2eOps: options.endToEnd.ops, e2eBulkCalls: options.endToEnd.bulkCalls, rounds: options.rounds,
      floorSamples: options.floorSamples, profileDir: options.profileDir ?? null, distBefore: options.distBefore ?? null,
      loadAverage1mAtStart: loadAtStart, loadAverage1mAtEnd: loadavg()[0]!,
    },
    transportFloor: floors, scenarios,
  };
}

function positiveInteger(text: string | undefined, fallback: number, name: string): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`--${name} must be a positive integer, got ${text}`);
  return value;
}

async function main(): Promise<void> {
  const { values: flags } = parseArgs({
    options: {
      iterations: { type: 'string' }, 'bulk-iterations': { type: 'string' }, repetitions: { type: 'string' },
      'e2e-ops': { type: 'string' }, 'e2e-bulk-calls': { type: 'string' }, rounds: { type: 'string' }, 'floor-samples': { type: 'string' },
      json: { type: 'string' }, profile: { type: 'string' }, 'dist-before': { type: 'string' },
    },
  });
  // Loops of requests in flight together run whole windows of 64.
  const iterations = Math.ceil(positiveInteger(flags.iterations, 20_000, 'iterations') / IN_FLIGHT) * IN_FLIGHT;
  const report = await runStageBreakdown({
    loops: { iterations, bulkIterations: positiveInteger(flags['bulk-iterations'], 8, 'bulk-iterations') },
    timing: { ...DEFAULT_TIMING, repetitions: positiveInteger(flags.repetitions, DEFAULT_TIMING.repetitions, 'repetitions') },
    endToEnd: { ops: positiveInteger(flags['e2e-ops'], 4000, 'e2e-ops'), bulkCalls: positiveInteger(flags['e2e-bulk-calls'], 15, 'e2e-bulk-calls') },
    rounds: positiveInteger(flags.rounds, 3, 'rounds'),
    floorSamples: positiveInteger(flags['floor-samples'], 2000, 'floor-samples'),
    profileDir: flags.profile, distBefore: flags['dist-before'],
  });
  await printReport(formatReport(report), report, flags.json);
}

runIfMain(import.meta.url, main);
