import type { MachineInfo } from '../machine.js';
import type { Range } from '../stats.js';
import type { FloorCpu, FloorResult } from './echo-floor.js';
import type { EndToEndResult } from './end-to-end.js';
import type { ScenarioProfiles } from './profile-run.js';
import type { ScenarioId } from './request-shapes.js';

/** The stages of one request, in the order it meets them. */
export const STAGES = [
  { id: 'client-encode', name: 'client encode (build request, encode frame)', process: 'client' },
  { id: 'transport', name: 'socket write + read (transport floor)', process: 'both' },
  { id: 'server-decode', name: 'server read + decode', process: 'server' },
  { id: 'validate', name: 'validate', process: 'server' },
  { id: 'lock', name: 'lock', process: 'server' },
  { id: 'stats-filter', name: 'stats delta + key filter', process: 'server' },
  { id: 'store', name: 'store (Database)', process: 'server' },
  { id: 'reply-encode', name: 'reply encode', process: 'server' },
  { id: 'client-decode-resolve', name: 'client decode + resolve', process: 'client' },
] as const;

export type StageId = typeof STAGES[number]['id'];
export type StageProcess = typeof STAGES[number]['process'];

export interface StageRow {
  id: StageId;
  name: string;
  process: StageProcess;
  /** µs per op (per call for bulk); null when the request does not go through this stage. */
  usPerOp: number | null;
  /** Min and max over the repetitions; null for the transport floor (one measurement) and absent stages. */
  range: Range | null;
  /** CPU µs per op: of this process for a stage, of both processes for the transport floor (split in `floorCpu`). */
  cpuUsPerOp: number | null;
  /** The transport floor's CPU per message, by side. */
  floorCpu?: FloorCpu;
  /** False for stages timed inside another (lock and stats run inside the store's Database call). */
  inSum: boolean;
  note: string;
}

export interface StageSums {
  /** Wall µs per op of the stages in each place, and of all together. */
  client: number;
  server: number;
  transport: number;
  all: number;
  /** CPU µs per op of each process's stages plus its side of the transport floor: compare with its end-to-end CPU per op. */
  clientCpu: number;
  serverCpu: number;
}

export interface ScenarioReport {
  id: ScenarioId;
  title: string;
  unit: string;
  stages: StageRow[];
  sums: StageSums;
  /** End to end, this build ("now") and, with --dist-before, the older one ("before"). */
  endToEnd: Record<string, EndToEndResult>;
  profile?: ScenarioProfiles;
}

export interface StageReport {
  machine: MachineInfo;
  startedAt: string;
  options: Record<string, number | string | null>;
  transportFloor: Record<string, FloorResult>;
  scenarios: ScenarioReport[];
}

export function stageSums(stages: readonly StageRow[]): StageSums {
  const sum = (process: StageProcess, pick: (row: StageRow) => number | null): number =>
    stages.filter((s) => s.process === process && s.inSum).reduce((total, s) => total + (pick(s) ?? 0), 0);
  const wall = { client: sum('client', (s) => s.usPerOp), server: sum('server', (s) => s.usPerOp), transport: sum('both', (s) => s.usPerOp) };
  const floor = stages.find((s) => s.process === 'both')?.floorCpu ?? { client: 0, server: 0 };
  return {
    ...wall, all: wall.client + wall.server + wall.transport,
    clientCpu: sum('client', (s) => s.cpuUsPerOp) + floor.client, serverCpu: sum('server', (s) => s.cpuUsPerOp) + floor.server,
  };
}

function fmt(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1000) return value.toFixed(0);
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

const TO_FILL = '_(before)_';

/** The end-to-end CPU per op of the process a stage runs in: now, and before in parentheses. */
function cpuCell(process: StageProcess, endToEnd: Record<string, EndToEndResult>): string {
  const pick = (result: EndToEndResult | undefined): string | undefined => {
    if (result === undefined) return undefined;
    if (process === 'client') return fmt(result.clientCpuUsPerOp);
    if (process === 'server') return fmt(result.serverCpuUsPerOp);
    return undefined;
  };
  const now = pick(endToEnd['now']);
  if (now === undefined) return '';
  const before = pick(endToEnd['before']);
  return before === undefined ? now : `${now} (${before})`;
}

function e2eFigure(result: EndToEndResult | undefined): string {
  if (result === undefined) return TO_FILL;
  return `${fmt(result.figure)} ${result.figureUnit}; mean ${fmt(result.wallUsPerOp)} µs/op`;
}

function wallCell(stage: StageRow): string {
  if (stage.usPerOp === null) return 'n/a';
  return stage.range === null ? fmt(stage.usPerOp) : `${fmt(stage.usPerOp)} (${fmt(stage.range.min)}-${fmt(stage.range.max)})`;
}

function stageCpuCell(stage: StageRow): string {
  if (stage.floorCpu !== undefined) return `${fmt(stage.floorCpu.client)} + ${fmt(stage.floorCpu.server)}`;
  return stage.cpuUsPerOp === null ? 'n/a' : fmt(stage.cpuUsPerOp);
}

export function scenarioTable(scenario: ScenarioReport): string {
  const now = scenario.endToEnd['now'];
  const before = scenario.endToEnd['before'];
  const lines = [
    `#### ${scenario.title} (${scenario.unit})`,
    '',
    '| stage | process | now: wall µs/op (min-max) | now: CPU µs/op | before: wall µs/op | e2e CPU µs/op of that process: now (before) | note |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const stage of scenario.stages) {
    lines.push(`| ${stage.name} | ${stage.process} | ${wallCell(stage)} | ${stageCpuCell(stage)} | ${TO_FILL} | ${cpuCell(stage.process, scenario.endToEnd)} | ${stage.note} |`);
  }
  const { sums } = scenario;
  lines.push(`| **sum of client stages** | client | ${fmt(sums.client)} | ${fmt(sums.clientCpu)} | ${TO_FILL} | ${cpuCell('client', scenario.endToEnd)} | CPU: with the client's side of the floor |`);
  lines.push(`| **sum of server stages** | server | ${fmt(sums.server)} | ${fmt(sums.serverCpu)} | ${TO_FILL} | ${cpuCell('server', scenario.endToEnd)} | CPU: with the server's side of the floor; lock and stats counted once, inside store |`);
  lines.push(`| **sum of all stages** (with the floor) | | ${fmt(sums.all)} | | ${TO_FILL} | | |`);
  lines.push(`| **end to end** | | ${e2eFigure(now)} | | ${e2eFigure(before)} | | ${now === undefined ? '' : `range of rounds ${fmt(now.figureRange.min)}-${fmt(now.figureRange.max)}`} |`);
  if (now !== undefined) {
    lines.push(`| **end to end (mean) − sum of stages** | | ${fmt(now.wallUsPerOp - sums.all)} | | ${TO_FILL} | | wake-ups and waiting (the other process, the event loop's turns, the group commit's turn): not a stage |`);
  }
  return lines.join('\n');
}

export function profileTable(scenario: ScenarioReport): string {
  const profile = scenario.profile;
  if (profile === undefined) return '';
  const { client, server } = profile;
  const lines = [
    `CPU profile shares, ${scenario.id} (client ${client.samples} samples / ${fmt(client.ms)} ms; server ${server.samples} samples / ${fmt(server.ms)} ms` +
      `${server.windowed ? ', only while the client ran' : ', whole server life'}):`,
    '',
    '| category | client self % | client incl. % | server self % | server incl. % |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (let i = 0; i < client.shares.length; i++) {
    const c = client.shares[i]!;
    const s = server.shares[i]!;
    // Categories with no visible share in either profile are left out of the table (not of the JSON).
    if (Math.max(c.inclusivePercent, s.inclusivePercent) < 0.05) continue;
    lines.push(`| ${c.category} | ${c.selfPercent.toFixed(1)} | ${c.inclusivePercent.toFixed(1)} | ${s.selfPercent.toFixed(1)} | ${s.inclusivePercent.toFixed(1)} |`);
  }
  return lines.join('\n');
}

export function floorTable(floor: Record<string, FloorResult>): string {
  const lines = [
    'Transport floor: a bare Node echo between two processes over a Unix socket (no hpckv code), median of the rounds' +
      ' (measured at the start of each end-to-end round):',
    '',
    '| messages | 1 in flight: round trip p50 µs | mean µs | CPU µs/msg (sender + echo) | 64 in flight: msgs/s | CPU µs/msg (sender + echo) |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  const cpu = (value: FloorCpu | null): string => (value === null ? '' : `${fmt(value.client)} + ${fmt(value.server)}`);
  for (const [name, result] of Object.entries(floor)) {
    const reply = result.reply === 'echo' ? 'echoed' : `answered with ${result.reply} B`;
    lines.push(`| ${name}: ${result.messageBytes} B, ${reply} | ${fmt(result.oneInFlightP50Us)} | ${fmt(result.oneInFlightMeanUs)} | ${cpu(result.oneInFlightCpuUs)} | ` +
      `${result.inFlight64MsgsPerS === null ? '' : fmt(result.inFlight64MsgsPerS)} | ${cpu(result.inFlight64CpuUs)} |`);
  }
  return lines.join('\n');
}

function fmtLoad(value: number | string | null | undefined): string {
  return typeof value === 'number' ? value.toFixed(1) : '?';
}

export function formatReport(report: StageReport): string {
  const m = report.machine;
  const parts = [
    `Stage breakdown, ${report.startedAt.slice(0, 10)}: ${m.cpuModel}, ${m.cores} cores, Node ${m.node}. ` +
      `Stage rows: median of ${report.options['repetitions']} repetitions (min-max); end to end: median of ${report.options['rounds']} rounds. ` +
      `Load average (1 min) ${fmtLoad(report.options['loadAverage1mAtStart'])} at the start, ${fmtLoad(report.options['loadAverage1mAtEnd'])} at the end.`,
    '',
    floorTable(report.transportFloor),
  ];
  for (const scenario of report.scenarios) {
    parts.push('', scenarioTable(scenario));
    const profile = profileTable(scenario);
    if (profile !== '') parts.push('', profile);
  }
  return parts.join('\n');
}
