import test, { type ExecutionContext } from 'ava';
import type { BatchOperation, Client, IterateOptions } from '../../../client/client.js';
import { ErrorCodes, HpckvError } from '../../../core/errors.js';
import type { PartitionSpec } from '../../../core/group-file.js';
import type { KeyValue } from '../../../core/keys/key-type.js';
import type { MergedScan } from '../../../client/merged-scan.js';
import { seededRandom, type Random } from '../../unit/partition/random.js';
import {
  launchTopology, SERVERS, SharedGroups, TOPOLOGIES, walkBackward, walkForward,
  type GroupSpec, type RunningGroup, type Topology,
} from '../../support/topologies.js';

/**
 * The topology suite (docs/design.md, "Conventions", Tests): every scenario runs once per topology, on real server
 * processes: a hash group, a range group (boundaries from RangeTable.fromSample) and an MDHIM
 * slices group, 4 servers each. Groups are shared per topology and key type, each scenario has a
 * database of its own, and every expected result comes from an in-memory model ordered by the
 * documented key order (written here, not taken from core/keys).
 */

const groups = new SharedGroups();
test.after.always(() => groups.stopAll());

// ---------------------------------------------------------------------------------------------
// Models

type Bounds<K> = { gt?: K; gte?: K; lt?: K; lte?: K };

/** A key as text: bigints with n, -0 as "-0", strings quoted, tuples bracketed. */
function repr(key: KeyValue): string {
  if (typeof key === 'bigint') return `${key}n`;
  if (typeof key === 'number') return Object.is(key, -0) ? '-0' : String(key);
  if (typeof key === 'string') return JSON.stringify(key);
  if (Array.isArray(key)) return `[${key.map(repr).join(',')}]`;
  return Buffer.from(key as Uint8Array).toString('hex');
}

const valueOf = (key: KeyValue): string => `v${repr(key)}`;

const compareInt = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);

/** Numeric order with -0 before +0 (NaN is not a key). */
const compareFloat = (a: number, b: number): number =>
  (a < b ? -1 : a > b ? 1 : Object.is(a, b) ? 0 : Object.is(a, -0) ? -1 : 1);

/** Unicode code point order (the documented string order; JS `<` compares UTF-16 code units). */
function compareString(a: string, b: string): number {
  const x = Array.from(a, (c) => c.codePointAt(0)!);
  const y = Array.from(b, (c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
  return x.length - y.length;
}

type Tuple = [string, bigint];
const compareTuple = (a: Tuple, b: Tuple): number => compareString(a[0], b[0]) || compareInt(a[1], b[1]);

/** What one database should hold: entries in the documented key order. */
class Model<K extends KeyValue> {
  private readonly entries = new Map<string, [K, string]>();

  constructor(readonly compare: (a: K, b: K) => number) {}

  get size(): number {
    return this.entries.size;
  }

  set(key: K, value = valueOf(key)): void {
    this.entries.set(repr(key), [key, value]);
  }

  delete(key: K): void {
    this.entries.delete(repr(key));
  }

  sorted(): Array<[K, string]> {
    return [...this.entries.values()].sort((a, b) => this.compare(a[0], b[0]));
  }

  keys(): K[] {
    return this.sorted().map(([key]) => key);
  }

  range(bounds: Bounds<K>): Array<[K, string]> {
    const c = this.compare;
    return this.sorted().filter(([key]) => (bounds.gt === undefined || c(key, bounds.gt) > 0)
      && (bounds.gte === undefined || c(key, bounds.gte) >= 0)
      && (bounds.lt === undefined || c(key, bounds.lt) < 0)
      && (bounds.lte === undefined || c(key, bounds.lte) <= 0));
  }

  deleteRange(bounds: Bounds<K>): number {
    const doomed = this.range(bounds);
    for (const [key] of doomed) this.delete(key);
    return doomed.length;
  }

  /** The true successor / predecessor of `key`, stored or not. */
  after(key: K): [K, string] | undefined {
    return this.sorted().find(([k]) => this.compare(k, key) > 0);
  }

  before(key: K): [K, string] | undefined {
    return this.sorted().findLast(([k]) => this.compare(k, key) < 0);
  }

  valueBytes(): number {
    return [...this.entries.values()].reduce((sum, [, value]) => sum + Buffer.byteLength(value), 0);
  }
}

/** Entries as comparable text ("key=value", or "key" for keys-only reads). */
function show(entries: ReadonlyArray<readonly [KeyValue, Buffer | string | undefined]>): string[] {
  return entries.map(([key, value]) => (value === undefined ? repr(key) : `${repr(key)}=${value.toString()}`));
}

const showOne = (entry: readonly [KeyValue, Buffer | string] | undefined): string | undefined =>
  (entry === undefined ? undefined : show([entry])[0]);

function shuffled<T>(items: readonly T[], random: Random): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.below(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

async function putAll<K extends KeyValue>(client: Client, db: string, model: Model<K>, random: Random): Promise<void> {
  const entries = shuffled(model.sorted(), random);
  // Several calls, so each server's store receives its keys in more than one batch.
  for (let i = 0; i < entries.length; i += 250) await client.putMany(entries.slice(i, i + 250), { db });
}

// ---------------------------------------------------------------------------------------------
// Shared checks

/** A FIRST/NEXT walk, full and bounded scans (forward and reverse) and counts against the model. */
async function checkOrder<K extends KeyValue>(t: ExecutionContext, client: Client, db: string, model: Model<K>,
  ranges: ReadonlyArray<Bounds<K>>): Promise<void> {
  const sorted = show(model.sorted());
  const reversed = [...sorted].reverse();
  t.deepEqual(show(await walkForward(client, db)), sorted, 'FIRST/NEXT');
  t.deepEqual(show(await client.iterate({ db }).all()), sorted, 'forward scan');
  t.deepEqual(show(await client.iterate({ db, reverse: true, firstPageEntries: 3 }).all()), reversed, 'reverse scan');
  t.deepEqual((await client.iterate({ db, values: false, firstPageEntries: 1 }).all()).map(repr), model.keys().map(repr), 'keys-only scan: keys alone');
  for (const bounds of ranges) {
    const expected = show(model.range(bounds));
    t.deepEqual(show(await client.iterate({ db, ...bounds }).all()), expected, `scan ${showBounds(bounds)}`);
    t.deepEqual(show(await client.iterate({ db, ...bounds, reverse: true }).all()), expected.reverse(), `reverse scan ${showBounds(bounds)}`);
    t.is(await client.count(bounds, { db }), model.range(bounds).length, `count ${showBounds(bounds)}`);
  }
}

/** NEXT and PREV of every probe (stored or not) are the model's successor and predecessor. */
async function checkNeighbours<K extends KeyValue>(t: ExecutionContext, client: Client, db: string, model: Model<K>,
  probes: readonly K[]): Promise<void> {
  for (const probe of probes) {
    t.is(showOne(await client.next(probe, { db })), showOne(model.after(probe)), `NEXT ${repr(probe)}`);
    t.is(showOne(await client.prev(probe, { db })), showOne(model.before(probe)), `PREV ${repr(probe)}`);
  }
}

function showBounds(bounds: Bounds<KeyValue>): string {
  return Object.entries(bounds).map(([name, key]) => `${name} ${repr(key)}`).join(', ') || 'unbounded';
}

/** Which server the topology's definition puts an int64 key on (undefined for hash: no closed form). */
function placementModel(client: Client): ((key: bigint) => number) | undefined {
  const partition = client.group.partition;
  if (partition.scheme === 'range') {
    const bounds = partition.boundaries.map((b) => client.decodeKey(Buffer.from(b, 'base64')) as bigint);
    return (key) => bounds.filter((b) => b <= key).length;
  }
  if (partition.scheme === 'slices') {
    const size = BigInt(partition.sliceSize);
    const servers = BigInt(SERVERS);
    return (key) => {
      const slice = key >= 0n ? key / size : -((-key + size - 1n) / size); // floor division
      return Number(((slice % servers) + servers) % servers);
    };
  }
  return undefined;
}

/** Stats of an int64 database: exact totals, and records per server where placement has a closed form. */
async function checkStats(t: ExecutionContext, client: Client, db: string, model: Model<bigint>, label: string): Promise<void> {
  const stats = (await client.stat({ db })).map((s) => s.databases[db]!);
  const total = (field: 'records' | 'keyBytes' | 'valueBytes'): number => stats.reduce((sum, s) => sum + s[field], 0);
  t.is(total('records'), model.size, `records ${label}`);
  t.is(total('keyBytes'), 8 * model.size, `key bytes ${label}`);
  t.is(total('valueBytes'), model.valueBytes(), `value bytes ${label}`);
  const owner = placementModel(client);
  if (owner !== undefined) {
    const expected = new Array<number>(SERVERS).fill(0);
    for (const key of model.keys()) expected[owner(key)]!++;
    t.deepEqual(stats.map((s) => s.records), expected, `records per server ${label}`);
  }
}

/** Every server is on the walk, and the walk changes server at least once per server. */
function checkCrossesServers(t: ExecutionContext, client: Client, keys: readonly KeyValue[]): void {
  const owners = keys.map((key) => client.serverFor(key));
  t.is(new Set(owners).size, SERVERS, 'every server holds some of the keys');
  t.true(owners.filter((owner, i) => i > 0 && owner !== owners[i - 1]).length >= SERVERS - 1, 'the walk crosses servers');
}

// ---------------------------------------------------------------------------------------------
// Groups: one per topology and key type

/** 400 int64 keys, multiples of 10 over [-2000, 2000): 5 per slice of 50, about 100 per range server. */
const WALK_KEYS = Array.from({ length: 400 }, (_, i) => BigInt(10 * i - 2000));
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

const INT64: GroupSpec = {
  keyType: 'int64',
  sample: WALK_KEYS, // range boundaries -1000, 0, 1000
  databases: ['walk-forward', 'walk-backward', 'neighbours', 'rounds', 'deletes', 'scans', 'seek'],
  // Small pages, so scans, counts and range deletes each take many pages per server.
  limits: { scanPageEntriesMax: 32 },
};

const floatRandom = seededRandom(64);
const FLOAT_KEYS = [
  Number.NEGATIVE_INFINITY, -Number.MAX_VALUE, -1e300, -1000.5, -1, -0.001, -Number.MIN_VALUE, -0,
  0, Number.MIN_VALUE, 1e-300, 0.5, 3, 1e10, Number.MAX_VALUE, Number.POSITIVE_INFINITY,
  // Eighths in [-1000, 1000): negatives over many slices and ranges.
  ...Array.from({ length: 150 }, () => (floatRandom.below(16_000) - 8000) / 8),
];
const FLOAT64: GroupSpec = { keyType: 'float64', sample: FLOAT_KEYS, databases: ['floats'] };

/** Characters around every UTF-8 length change, NUL, and the astral-vs-U+E000..U+FFFF trap. */
const ALPHABET = ['\u0000', '\u0001', ' ', '0', 'A', 'a', 'b', 'z', '\u007f', '\u0080', '\u00e9', '\u07ff', '\u0800',
  '\ud7ff', '\ue000', '\ufffd', '\uffff', '\u{10000}', '\u{1f600}', '\u{10ffff}'];
const stringRandom = seededRandom(8);
const randomString = (random: Random, lengthMax: number, lengthMin = 1): string =>
  Array.from({ length: lengthMin + random.below(lengthMax - lengthMin + 1) }, () => ALPHABET[random.below(ALPHABET.length)]!).join('');
const STRING_KEYS = [
  '\u0000', '\u0000\u0000', 'a', 'a\u0000', 'a\u0000\u0000', 'a\u0000b', 'ab', 'b', 'e\u0301', '\u00e9',
  '\ue000', '\uffff', '\u{10000}', '\u{1f600}', '\u{1f600}\u0000', '\u{10ffff}',
  ...Array.from({ length: 150 }, () => randomString(stringRandom, 6)),
];
const STRING: GroupSpec = { keyType: 'string', sample: STRING_KEYS, databases: ['strings'] };

const tupleRandom = seededRandom(2);
const TUPLE_KEYS: Tuple[] = [
  ...['', '\u0000', 'a', 'a\u0000', 'a\u0000b', 'ab', 'b', '\uffff', '\u{1f600}']
    .flatMap((s) => [INT64_MIN, -5n, 0n, 7n, 1n << 62n].map((n): Tuple => [s, n])),
  ...Array.from({ length: 120 }, (): Tuple => [randomString(tupleRandom, 3, 0), BigInt(tupleRandom.below(2000) - 1000)]),
];
// No slices group: MDHIM slices partition scalar keys only (a tuple partition.keyType is refused).
const TUPLE: GroupSpec = { keyType: 'tuple(string,int64)', sample: TUPLE_KEYS, databases: ['tuples'] };

interface ScenarioContext {
  readonly topology: Topology;
  readonly client: Client;
}

/** Registers `run` once per topology that can hold the spec's key type, the topology in the title. */
function scenario(title: string, spec: GroupSpec, run: (t: ExecutionContext, context: ScenarioContext) => Promise<void>): void {
  for (const topology of TOPOLOGIES) {
    if (topology.partition(spec.keyType, spec.sample) === undefined) continue;
    test(`[${topology.name}] ${title}`, async (t) => {
      const { client } = await groups.get(topology, spec)!;
      await run(t, { topology, client });
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Scenarios

/** Stores the 400 walk keys (in a shuffled order) and returns their model. */
async function putWalkKeys(client: Client, db: string, seed: number): Promise<Model<bigint>> {
  const model = new Model(compareInt);
  for (const key of WALK_KEYS) model.set(key);
  await putAll(client, db, model, seededRandom(seed));
  return model;
}

scenario('400 keys walked by FIRST then NEXT come back in order across servers, then end of data', INT64, async (t, { client }) => {
  const db = 'walk-forward';
  const model = await putWalkKeys(client, db, 1);
  const walked = await walkForward(client, db);
  t.deepEqual(show(walked), show(model.sorted()));
  t.is(await client.next(walked.at(-1)![0], { db }), undefined, 'end of data after the last key');
  checkCrossesServers(t, client, walked.map(([key]) => key));
  await checkStats(t, client, db, model, 'after the puts');
});

scenario('400 keys walked by LAST then PREV come back in reverse order across servers', INT64, async (t, { client }) => {
  const db = 'walk-backward';
  const model = await putWalkKeys(client, db, 2);
  const walked = await walkBackward(client, db);
  t.deepEqual(show(walked), show(model.sorted().reverse()));
  t.is(await client.prev(walked.at(-1)![0], { db }), undefined, 'start of data before the first key');
  checkCrossesServers(t, client, walked.map(([key]) => key));
});

scenario('NEXT and PREV of absent keys are the true successor and predecessor', INT64, async (t, { client }) => {
  const db = 'neighbours';
  const model = await putWalkKeys(client, db, 3);
  const probes = [INT64_MIN, -2001n, -2000n, 1990n, 1991n, 5000n, INT64_MAX];
  for (let i = 0; i < WALK_KEYS.length; i += 13) probes.push(WALK_KEYS[i]! - 1n, WALK_KEYS[i]!, WALK_KEYS[i]! + 5n);
  await checkNeighbours(t, client, db, model, probes);
  // The extremes, stated without the model.
  t.is(await client.prev(-2000n, { db }), undefined);
  t.is(await client.next(1990n, { db }), undefined);
  t.is(showOne(await client.next(INT64_MIN, { db })), '-2000n=v-2000n');
  t.is(showOne(await client.prev(INT64_MAX, { db })), '1990n=v1990n');
});

scenario('FIRST and LAST are the global min and max after each round of puts into other ranges', INT64, async (t, { client }) => {
  const db = 'rounds';
  t.is(await client.first({ db }), undefined, 'FIRST of an empty database');
  t.is(await client.last({ db }), undefined, 'LAST of an empty database');
  const model = new Model(compareInt);
  const random = seededRandom(4);
  const owners = new Set<number>();
  // Each round writes into another part of the key space: the middle, a new min, a new max,
  // inside (no change), the int64 extremes, then everywhere.
  const rounds: Array<[bigint, bigint]> = [[0n, 100n], [-1500n, -1400n], [1500n, 1600n], [-300n, 300n], [INT64_MIN, INT64_MAX], [-2000n, 2000n]];
  for (const [lo, hi] of rounds) {
    const keys = lo === INT64_MIN
      ? [INT64_MIN, INT64_MAX]
      : Array.from({ length: 12 }, () => lo + BigInt(random.below(Number(hi - lo))));
    for (const key of keys) { model.set(key); owners.add(client.serverFor(key)); }
    await client.putMany(keys.map((key) => [key, valueOf(key)] as const), { db });
    const sorted = model.sorted();
    t.is(showOne(await client.first({ db })), showOne(sorted[0]), `FIRST after the round in [${lo}, ${hi})`);
    t.is(showOne(await client.last({ db })), showOne(sorted.at(-1)), `LAST after the round in [${lo}, ${hi})`);
  }
  t.is(owners.size, SERVERS, 'the rounds wrote to every server');
});

scenario('del, delMany, batch dels and deleteRange leave walks, counts and stats equal to a model', INT64, async (t, { client }) => {
  const db = 'deletes';
  const model = new Model(compareInt);
  const keys = Array.from({ length: 400 }, (_, i) => BigInt(7 * i - 1400));
  // Values of several lengths, so value bytes are checked per key.
  const valueFor = (key: bigint): string => `${'x'.repeat(Number(((key % 5n) + 5n) % 5n))}${key}`;
  for (const key of keys) model.set(key, valueFor(key));
  await putAll(client, db, model, seededRandom(5));
  /** Counts, scans and stats after every step; a FIRST/NEXT walk too after some (a walk costs a round trip per key). */
  const check = async (label: string, walk = false): Promise<void> => {
    t.is(await client.count({}, { db }), model.size, `count ${label}`);
    t.is(await client.count({ gte: -500n, lt: 500n }, { db }), model.range({ gte: -500n, lt: 500n }).length, `bounded count ${label}`);
    t.deepEqual(show(await client.iterate({ db, firstPageEntries: 5 }).all()), show(model.sorted()), `scan ${label}`);
    t.deepEqual(show(await client.iterate({ db, reverse: true }).all()), show(model.sorted().reverse()), `reverse scan ${label}`);
    if (walk) t.deepEqual(show(await walkForward(client, db)), show(model.sorted()), `walk ${label}`);
    await checkStats(t, client, db, model, label);
  };
  await check('after the puts');

  // del of stored keys (the first, the last, inner ones), absent keys and a key already deleted.
  for (const key of [keys[0]!, keys[399]!, keys[123]!, keys[124]!, -1401n, 5n, keys[123]!]) {
    await client.del(key, { db });
    model.delete(key);
  }
  await check('after del', true);

  // delMany with stored keys, absent keys and a key listed twice.
  const many = [...keys.slice(200, 240), 3n, 1_000_000n, keys[210]!];
  await client.delMany(many, { db });
  for (const key of many) model.delete(key);
  await check('after delMany');

  // A batch mixing deletes and puts, one key put then deleted, one deleted then put again.
  const operations: BatchOperation[] = [
    ...keys.slice(300, 330).map((key): BatchOperation => ({ type: 'del', key })),
    ...Array.from({ length: 20 }, (_, i): BatchOperation => ({ type: 'put', key: BigInt(-2000 + 3 * i), value: `new${i}` })),
    { type: 'del', key: 6n },
    { type: 'put', key: 11n, value: 'gone' }, { type: 'del', key: 11n },
    { type: 'del', key: keys[350]! }, { type: 'put', key: keys[350]!, value: 'again' },
  ];
  await client.batch(operations, { db });
  for (const op of operations) {
    if (op.type === 'put') model.set(op.key as bigint, String(op.value));
    else model.delete(op.key as bigint);
  }
  await check('after batch', true);

  const ranges: Array<Bounds<bigint>> = [{ gte: -700n, lt: -300n }, { gt: 500n, lte: 900n }, { gt: 1300n }, { lt: -1300n }, { gte: 0n, lte: 0n }, { gt: 20n, lt: 21n }];
  for (const bounds of ranges) {
    t.is(await client.deleteRange(bounds, { db }), model.deleteRange(bounds), `deleteRange ${showBounds(bounds)}`);
    await check(`after deleteRange ${showBounds(bounds)}`);
  }
  const left = model.size;
  t.true(left > 100);
  t.is(await client.deleteRange({}, { db }), model.deleteRange({}));
  t.is(model.deleteRange({}), 0);
  t.is(await client.first({ db }), undefined);
  t.is(await client.last({ db }), undefined);
  await check('after deleting everything', true);
});

/** Reads what is left of a scan one of three ways, so every way meets every kind of range. */
async function drain<E>(scan: MergedScan<E>, how: number, random: Random): Promise<E[]> {
  if (how === 0) return scan.all();
  const out: E[] = [];
  if (how === 1) {
    for await (const entry of scan) out.push(entry);
    return out;
  }
  for (;;) {
    const chunk = await scan.nextv(1 + random.below(10));
    if (chunk.length === 0) return out;
    out.push(...chunk);
  }
}

/** 1500 random int64 keys in [-2000, 2000). */
function randomInt64Model(seed: number): { model: Model<bigint>; random: Random } {
  const random = seededRandom(seed);
  const model = new Model(compareInt);
  while (model.size < 1500) model.set(BigInt(random.below(4000) - 2000));
  return { model, random };
}

/** A key for a bound: a stored key half the time, else any key in and just around the data. */
function boundKey(random: Random, model: Model<bigint>): bigint {
  const keys = model.keys();
  return random.below(2) === 0 ? keys[random.below(keys.length)]! : BigInt(random.below(4200) - 2100);
}

scenario('scans with every bound combination, reverse, limit and small first pages match a sorted model', INT64, async (t, { client }) => {
  const db = 'scans';
  const { model, random } = randomInt64Model(1500);
  await putAll(client, db, model, random);
  // 54 rounds: the 9 bound combinations x forward/reverse, three times, each time read another way.
  for (let round = 0; round < 54; round++) {
    const lower = round % 3; // none, gt, gte
    const upper = Math.floor(round / 3) % 3; // none, lt, lte
    const reverse = Math.floor(round / 9) % 2 === 1;
    let lo = boundKey(random, model);
    let hi = boundKey(random, model);
    if (round % 7 !== 0 && lo > hi) [lo, hi] = [hi, lo]; // every 7th round may be an empty range
    const bounds: Bounds<bigint> = {};
    if (lower === 1) bounds.gt = lo;
    if (lower === 2) bounds.gte = lo;
    if (upper === 1) bounds.lt = hi;
    if (upper === 2) bounds.lte = hi;
    const options: IterateOptions = { db, ...bounds, reverse, firstPageEntries: 1 + random.below(8), values: round % 5 !== 0 };
    if (round % 4 !== 0) options.limit = random.below(80);
    let expected = model.range(bounds).map(([key, value]): [bigint, string | undefined] => [key, options.values ? value : undefined]);
    if (reverse) expected.reverse();
    if (options.limit !== undefined) expected = expected.slice(0, options.limit);
    const label = JSON.stringify({ round, bounds: showBounds(bounds), reverse, limit: options.limit, firstPageEntries: options.firstPageEntries });
    const got = await drain(client.iterate(options), Math.floor(round / 18), random);
    // A scan with values gives [key, value] pairs, one without the keys alone.
    const entries = options.values ? got as Array<[KeyValue, Buffer]> : (got as KeyValue[]).map((key): [KeyValue, undefined] => [key, undefined]);
    t.deepEqual(show(entries), show(expected), label);
    t.is(await client.count(bounds, { db }), model.range(bounds).length, `count ${label}`);
  }
});

scenario('seek() inside a scan moves it within its range, forward and reverse', INT64, async (t, { client }) => {
  const db = 'seek';
  const { model, random } = randomInt64Model(1501);
  await putAll(client, db, model, random);
  const keysOf = (entries: ReadonlyArray<readonly [KeyValue, unknown]>): string[] => entries.map(([key]) => repr(key));
  const expectKeys = (bounds: Bounds<bigint>, reverse: boolean, count: number): string[] => {
    const entries = model.range(bounds);
    if (reverse) entries.reverse();
    return keysOf(entries.slice(0, count));
  };
  // Stated cases: into the range, before it (back to its start), past it (nothing left).
  const forward = client.iterate({ db, gte: -500n, lt: 500n, values: false, firstPageEntries: 2 });
  t.deepEqual((await forward.nextv(3)).map(repr), expectKeys({ gte: -500n, lt: 500n }, false, 3));
  forward.seek(1n);
  t.deepEqual((await forward.nextv(3)).map(repr), expectKeys({ gte: 1n, lt: 500n }, false, 3));
  forward.seek(-3000n);
  t.deepEqual((await forward.nextv(2)).map(repr), expectKeys({ gte: -500n, lt: 500n }, false, 2));
  forward.seek(1000n);
  t.deepEqual(await forward.nextv(2), []);
  await forward.close();
  const backward = client.iterate({ db, gt: -1500n, lte: 1500n, reverse: true, firstPageEntries: 1 });
  t.deepEqual(keysOf(await backward.nextv(2)), expectKeys({ gt: -1500n, lte: 1500n }, true, 2));
  backward.seek(1234n);
  t.deepEqual(keysOf(await backward.nextv(3)), expectKeys({ gt: -1500n, lte: 1234n }, true, 3));
  backward.seek(5000n);
  t.deepEqual(keysOf(await backward.nextv(1)), expectKeys({ gt: -1500n, lte: 1500n }, true, 1));
  await backward.close();
  // A limit counts every entry returned, before and after the seek.
  const limited = client.iterate({ db, limit: 5 });
  t.is((await limited.nextv(3)).length, 3);
  limited.seek(0n);
  t.deepEqual(keysOf(await limited.all()), expectKeys({ gte: 0n }, false, 2));

  // Random rounds: read some, seek anywhere (inside, before or after the range), read the rest.
  for (let round = 0; round < 30; round++) {
    const reverse = round % 2 === 1;
    let lo = boundKey(random, model);
    let hi = boundKey(random, model);
    if (lo > hi) [lo, hi] = [hi, lo];
    const bounds: Bounds<bigint> = round % 3 === 0 ? { gt: lo, lte: hi } : { gte: lo, lt: hi };
    const scan = client.iterate({ db, ...bounds, reverse, firstPageEntries: 1 + random.below(5) });
    const before = await scan.nextv(random.below(20));
    t.deepEqual(show(before), show((reverse ? model.range(bounds).reverse() : model.range(bounds)).slice(0, before.length)));
    const target = boundKey(random, model);
    scan.seek(target);
    const rest = model.range(bounds).filter(([key]) => (reverse ? key <= target : key >= target));
    if (reverse) rest.reverse();
    t.deepEqual(show(await drain(scan, round % 3, random)), show(rest),
      JSON.stringify({ round, bounds: showBounds(bounds), reverse, read: before.length, seek: String(target) }));
  }
});

scenario('negative floats keep their order: walks, scans and neighbours match the numeric order', FLOAT64, async (t, { client }) => {
  const db = 'floats';
  const model = new Model(compareFloat);
  for (const key of FLOAT_KEYS) model.set(key);
  await putAll(client, db, model, seededRandom(6));
  const negatives = model.range({ lt: -0 }).map(([key]) => key);
  t.true(new Set(negatives.map((key) => client.serverFor(key))).size >= 2, 'negative keys are on several servers');
  await checkOrder(t, client, db, model, [
    { lt: 0 }, { lt: -0 }, { gte: -0, lte: 0 }, { gt: -1000.5, lte: -0.001 }, { gte: -1, lt: 1 },
    { gt: Number.NEGATIVE_INFINITY, lt: Number.POSITIVE_INFINITY }, { gte: -999.875, lt: -500.125 },
  ]);
  await checkNeighbours(t, client, db, model, [
    Number.NEGATIVE_INFINITY, -Number.MAX_VALUE, -2000, -1000.5, -999.9, -500.0625, -1, -0.0005, -Number.MIN_VALUE, -0,
    0, 1e-310, 0.0001, 999.99, 1e308, Number.POSITIVE_INFINITY,
  ]);
});

scenario('string keys (NUL, astral and U+E000..U+FFFF characters) walk in code point order', STRING, async (t, { client }) => {
  const db = 'strings';
  const model = new Model(compareString);
  for (const key of STRING_KEYS) model.set(key);
  await putAll(client, db, model, seededRandom(7));
  t.true(compareString('\uffff', '\u{10000}') < 0 && !('\uffff' < '\u{10000}'), 'the model is code point order, not JS <');
  await checkOrder(t, client, db, model, [
    { gte: 'a', lt: '\u{1f600}' }, { gt: '\uffff', lte: '\u{10ffff}' }, { gt: '\u0000', lt: 'a\u0000b' },
    { gte: '\ue000', lt: '\u{10000}' }, { lte: '\u0000\u0000' },
  ]);
  await checkNeighbours(t, client, db, model, [
    '\u0000', '\u0000\u0000\u0000', 'a', 'a\u0000\u0000\u0000', 'a\u0001', '\u007f\u007f', '\ud7ff\u{10ffff}', '\ufffe', '\uffff\uffff',
    '\u{fffff}', '\u{10ffff}\u{10ffff}\u{10ffff}\u{10ffff}\u{10ffff}\u{10ffff}\u{10ffff}',
  ]);
  // docs/errors.md: an empty key is a malformed request.
  const error = await t.throwsAsync(client.put('', 'x', { db }), { instanceOf: HpckvError }, 'the empty string is no key');
  t.is(error?.code, ErrorCodes.BAD_REQUEST);
});

scenario('tuple(string,int64) keys walk component by component', TUPLE, async (t, { client }) => {
  const db = 'tuples';
  const model = new Model(compareTuple);
  for (const key of TUPLE_KEYS) model.set(key);
  await putAll(client, db, model, seededRandom(9));
  await checkOrder<Tuple>(t, client, db, model, [
    { gte: ['a', 0n], lt: ['b', -5n] }, { gt: ['', 7n], lte: ['\u{1f600}', 0n] }, { gt: ['a', INT64_MIN], lt: ['a\u0000', 1n] },
    { lte: ['\u0000', 0n] }, { gte: ['\uffff', -1n] },
  ]);
  await checkNeighbours<Tuple>(t, client, db, model, [
    ['', INT64_MIN], ['', -6n], ['a', 1n], ['a\u0000', INT64_MAX], ['a\u0000', INT64_MIN], ['\uffff', 8n],
    ['\u{10000}', INT64_MIN], ['\u{10ffff}', 0n],
  ]);
});

// ---------------------------------------------------------------------------------------------
// Restarts: a data directory remembers the layout it was made for

const RESTART: GroupSpec = { keyType: 'int64', sample: WALK_KEYS, databases: ['default'] };

/** Other parameters of the same scheme: another seed, boundaries from another sample, another slice size. */
function otherParameters(topology: Topology, spec: PartitionSpec): PartitionSpec {
  switch (spec.scheme) {
    case 'hash': return { ...spec, seed: spec.seed + 7 };
    case 'range': return topology.partition(RESTART.keyType, WALK_KEYS.slice(0, 200))!;
    case 'slices': return { ...spec, sliceSize: 25 };
  }
}

for (const topology of TOPOLOGIES) {
  test(`[${topology.name}] a restart with other partition parameters, server count or key type fails cleanly; the same parameters find every key`, async (t) => {
    const dir = await groups.tempDir(`hpckv-topo-restart-${topology.name}-`);
    const partition = topology.partition(RESTART.keyType, RESTART.sample)!;
    const model = new Model(compareInt);
    for (const key of WALK_KEYS) model.set(key);
    let running: RunningGroup = await launchTopology(dir, RESTART, partition);
    try {
      await putAll(running.client, 'default', model, seededRandom(10));
    } finally {
      await running.client.close();
      await running.group.stop();
    }
    const other = otherParameters(topology, partition);
    t.notDeepEqual(other, partition);
    const refused: Array<[string, () => Promise<RunningGroup>, RegExp]> = [
      ['other partition parameters', () => launchTopology(dir, RESTART, other), /created with partition=/],
      ['another server count', () => launchTopology(dir, RESTART, topology.partition(RESTART.keyType, RESTART.sample, 2)!, 2),
        topology.name === 'range' ? /created with partition=/ : /created with serverCount=4.*serverCount=2/],
      // A slices spec names its key type, which must be the store's: the new type comes with its spec.
      ['another key type', () => launchTopology(dir, { ...RESTART, keyType: 'uint64' }, partition.scheme === 'slices' ? { ...partition, keyType: 'uint64' } : partition),
        /created with keyType="int64".*keyType="uint64"/],
    ];
    for (const [what, launch, mismatch] of refused) {
      const error = await t.throwsAsync(launch(), { instanceOf: HpckvError }, what);
      t.regex(error?.message ?? '', /HPCKV_ERR_GROUP_FILE/, what);
      t.regex(error?.message ?? '', mismatch, what);
    }
    running = await launchTopology(dir, RESTART, partition);
    try {
      t.deepEqual(running.client.group.partition, partition);
      t.deepEqual(show(await running.client.iterate().all()), show(model.sorted()), 'every key and value is still there');
      t.deepEqual((await running.client.getMany(WALK_KEYS)).map((v) => v?.toString()), WALK_KEYS.map(valueOf));
      t.is((await running.client.stat()).reduce((sum, s) => sum + s.databases['default']!.records, 0), model.size);
    } finally {
      await running.client.close();
      await running.group.stop();
    }
  });
}
