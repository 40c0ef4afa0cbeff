import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Client } from '../../client/client.js';
import { runIfMain } from '../bench-main.js';
import { loadFilterRecords, measureFilterPasses, type FilterPasses } from '../procedure-bench.js';
import { regionVsBulkRound, type RegionRates } from '../region-bench.js';
import { orderedScan } from '../scan-bench.js';
import { bulkRows } from '../suite/kv-rows.js';
import { hpckvTarget } from '../suite/kv-targets.js';
import { hpckvSetup } from '../suite/suite-row.js';
import { secondsSince } from '../stats.js';
import { measureStreamRates, type StreamRates } from './stream-probe.js';

/**
 * The client side of the network bench, run by the suite inside the client's namespace
 * (`ip netns exec NS node --no-node-snapshot dist/bench/network/network-client.js ...`). It
 * measures the parts asked for against the group and prints what it measured as one JSON object
 * (NetworkMeasurements) on stdout.
 */

export type NetworkPart = 'probe' | 'bulk' | 'region' | 'scan-filter';
export const NETWORK_PARTS: readonly NetworkPart[] = ['probe', 'bulk', 'region', 'scan-filter'];

/** The value size of the bulk and region rows (the 1000 × 4 KiB batches). */
export const KV_VALUE_BYTES = 4096;
/** The database the bulk and region rows write, so the scan and the filter see only the filter's records (in `default`). */
const KV_DATABASE = 'kv';
/** Region rows' keys start here: far from the bulk rows' (kv-rows' bulkKeyBase). */
const REGION_FIRST_KEY = 500_000_000;

export interface NetworkClientOptions {
  groupFile: string;
  /** A group on this namespace's loopback: the bulk rows run on it too, batch by batch in turn with the shaped group's. */
  loopbackGroupFile?: string;
  parts: readonly NetworkPart[];
  /** The stream probe's server, and how many bytes to stream each way. */
  probe?: { host: string; port: number; bytes: number };
  bulkRecords: number;
  regionRecords: number;
  filterRecords: number;
  /** The client's network interface, whose receive counter (/proc/net/dev, this namespace's) says what crossed the link. */
  interfaceName?: string;
}

export interface NetworkMeasurements {
  link?: StreamRates;
  /** putMany / getMany records/s of KV_VALUE_BYTES values, best of 2 rounds, on the group and (loopbackPut, loopbackGet) the loopback group. */
  bulk?: { records: number; put: number; get: number; loopbackPut?: number; loopbackGet?: number };
  region?: { records: number } & RegionRates;
  /** The ordered scan of the filter's records: best records/s of 2, and what crossed the link in the last. */
  scan?: { records: number; recordsPerSecond: number; keyValueBytes: number; receivedBytes: number };
  filter?: { records: number } & FilterPasses;
}

/** Bytes `name` has received so far in this process's network namespace (0 if there is no such interface). */
export function interfaceReceivedBytes(name: string): number {
  for (const line of readFileSync('/proc/net/dev', 'utf8').split('\n')) {
    const [label, counters] = line.split(':');
    if (label?.trim() === name && counters !== undefined) return Number(counters.trim().split(/\s+/)[0]);
  }
  return 0;
}

const say = (what: string): void => { process.stderr.write(`network client: ${what} ...\n`); };

/** putMany then getMany of 1000 × KV_VALUE_BYTES through `client` and, batch by batch in turn, `loopback` (kv-rows' bulkRows). */
async function measureBulk(client: Client, loopback: Client | undefined, records: number): Promise<NonNullable<NetworkMeasurements['bulk']>> {
  say(`bulk put and get of ${records} × ${KV_VALUE_BYTES} B${loopback === undefined ? '' : ', and on the loopback group'}`);
  const targets = [hpckvTarget(client, KV_DATABASE)];
  if (loopback !== undefined) targets.push({ ...hpckvTarget(loopback, KV_DATABASE), name: 'loopback' });
  const [put, get] = await bulkRows(targets, KV_VALUE_BYTES, records, 'network', 1, hpckvSetup(client.serverCount, 'tcp'));
  return { records, put: put!.value, get: get!.value,
    ...(loopback === undefined ? {} : { loopbackPut: put!.anchors[0]!.value, loopbackGet: get!.anchors[0]!.value }) };
}

/** The region bench's alternating rounds (region vs bulk call), best of 2. */
async function measureRegion(client: Client, records: number): Promise<NonNullable<NetworkMeasurements['region']>> {
  say(`region put and get of ${records} × ${KV_VALUE_BYTES} B`);
  const best: RegionRates = { regionPut: 0, bulkPut: 0, regionGet: 0, bulkGet: 0 };
  for (let round = 0; round < 2; round++) {
    const rates = await regionVsBulkRound(client, KV_DATABASE, KV_VALUE_BYTES, records, REGION_FIRST_KEY + round * records);
    for (const k of Object.keys(best) as Array<keyof RegionRates>) best[k] = Math.max(best[k], rates[k]);
  }
  return { records, ...best };
}

/** Loads the procedure bench's records, scans them all (best of 2), then runs its filter passes. */
async function measureScanAndFilter(client: Client, records: number, received: () => number): Promise<Required<Pick<NetworkMeasurements, 'scan' | 'filter'>>> {
  say(`loading ${records} records of ~256 B`);
  await loadFilterRecords(client, records);
  say('ordered scan of all of them');
  let bestRate = 0;
  let last = { records: 0, keyValueBytes: 0, receivedBytes: 0 };
  for (let round = 0; round < 2; round++) {
    const before = received();
    const start = process.hrtime.bigint();
    const scanned = await orderedScan(client);
    bestRate = Math.max(bestRate, scanned.records / secondsSince(start));
    if (scanned.records !== records) throw new Error(`the scan saw ${scanned.records} of ${records} records`);
    last = { ...scanned, receivedBytes: received() - before };
  }
  say('1% filter on the servers vs fetch everything and filter here');
  return { scan: { ...last, recordsPerSecond: bestRate }, filter: { records, ...await measureFilterPasses(client, received) } };
}

export async function measureNetworkParts(options: NetworkClientOptions): Promise<NetworkMeasurements> {
  const { interfaceName } = options;
  const received = interfaceName === undefined ? (): number => 0 : (): number => interfaceReceivedBytes(interfaceName);
  const out: NetworkMeasurements = {};
  if (options.parts.includes('probe')) {
    if (options.probe === undefined) throw new TypeError('the probe part needs --probe HOST:PORT');
    say(`streaming ${options.probe.bytes} bytes each way`);
    out.link = await measureStreamRates(options.probe.host, options.probe.port, options.probe.bytes);
  }
  const client = await Client.open(options.groupFile);
  const loopback = options.loopbackGroupFile === undefined ? undefined : await Client.open(options.loopbackGroupFile);
  try {
    if (options.parts.includes('bulk')) out.bulk = await measureBulk(client, loopback, options.bulkRecords);
    if (options.parts.includes('region')) out.region = await measureRegion(client, options.regionRecords);
    if (options.parts.includes('scan-filter')) {
      const { scan, filter } = await measureScanAndFilter(client, options.filterRecords, received);
      out.scan = scan;
      out.filter = filter;
    }
  } finally {
    await client.close();
    await loopback?.close();
  }
  return out;
}

function positive(text: string | undefined, name: string, fallback: number): number {
  const n = Number(text ?? fallback);
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`--${name} takes a positive integer, got ${text}`);
  return n;
}

/** The command line the suite gives this script (main parses it back). */
export function networkClientArgs(options: NetworkClientOptions): string[] {
  const args = ['--group', options.groupFile, '--parts', options.parts.join(','), '--bulk-records', String(options.bulkRecords),
    '--region-records', String(options.regionRecords), '--filter-records', String(options.filterRecords)];
  if (options.probe !== undefined) args.push('--probe', `${options.probe.host}:${options.probe.port}`, '--probe-bytes', String(options.probe.bytes));
  if (options.loopbackGroupFile !== undefined) args.push('--loopback-group', options.loopbackGroupFile);
  if (options.interfaceName !== undefined) args.push('--interface', options.interfaceName);
  return args;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    group: { type: 'string' }, 'loopback-group': { type: 'string' }, parts: { type: 'string' }, probe: { type: 'string' }, 'probe-bytes': { type: 'string' },
    'bulk-records': { type: 'string' }, 'region-records': { type: 'string' }, 'filter-records': { type: 'string' }, interface: { type: 'string' },
  } });
  if (values.group === undefined) throw new TypeError('--group FILE is required');
  const named = (values.parts ?? NETWORK_PARTS.join(',')).split(',');
  const parts = NETWORK_PARTS.filter((part) => named.includes(part));
  if (parts.length !== named.length) throw new RangeError(`--parts ${named.join(',')}: the parts are ${NETWORK_PARTS.join(', ')}`);
  let probe: NetworkClientOptions['probe'];
  if (values.probe !== undefined) {
    const at = values.probe.lastIndexOf(':');
    probe = { host: values.probe.slice(0, at), port: positive(values.probe.slice(at + 1), 'probe', 0), bytes: positive(values['probe-bytes'], 'probe-bytes', 100_000_000) };
  }
  const measurements = await measureNetworkParts({
    groupFile: values.group, ...(values['loopback-group'] === undefined ? {} : { loopbackGroupFile: values['loopback-group'] }), parts, ...(probe === undefined ? {} : { probe }),
    bulkRecords: positive(values['bulk-records'], 'bulk-records', 20_000), regionRecords: positive(values['region-records'], 'region-records', 20_000),
    filterRecords: positive(values['filter-records'], 'filter-records', 100_000), ...(values.interface === undefined ? {} : { interfaceName: values.interface }),
  });
  process.stdout.write(`${JSON.stringify(measurements)}\n`);
}

runIfMain(import.meta.url, main);
