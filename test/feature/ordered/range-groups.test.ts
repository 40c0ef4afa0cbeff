import test from 'ava';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '../../../client/client.js';
import { ErrorCodes, HpckvError } from '../../../core/errors.js';
import type { KeyValue } from '../../../core/keys/key-type.js';
import type { PartitionSpec } from '../../../core/partition-spec.js';
import { placementOf, serverFor } from '../../../partition/placement.js';
import { rangePartition } from '../../../partition/range-partition.js';
import { launchLocalGroup, type LocalGroup } from '../../../server/launcher.js';
import { requestsDuring } from '../../support/requests-during.js';

/**
 * A range group set up from typed keys, the way a user meets it: the spec from
 * `rangePartition` with tuple-prefix split points (a run per server), placement asked without
 * servers agreeing with the client and the stores, tuple prefixes as range bounds and the
 * `prefix` option, on 3 real server processes; and bad specs refused at launch, before any
 * server starts.
 */
const KEY_TYPE = 'tuple(string,int64)';
const RUNS = ['la', 'mu', 'nu', 'xi'];
const STEPS = 10;
/** Server 0: runs before "mu"; server 1: all of "mu" (up to "nu"); server 2: "nu" and after. */
const spec = rangePartition({ keyType: KEY_TYPE, splitPoints: [['mu'], ['nu']] });

let dir: string;
let group: LocalGroup;
let client: Client;

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hpckv-range-groups-'));
  group = await launchLocalGroup({ servers: 3, dir: join(dir, 'group'), keyType: KEY_TYPE, partition: spec });
  client = await Client.open(group.groupFile);
  // Steps as plain numbers: int64 tuple parts take safe integers.
  await client.putMany(RUNS.flatMap((run) => Array.from({ length: STEPS }, (_, step) => [[run, step], `${run}:${step}`] as const)));
});

test.after.always(async () => {
  await client?.close();
  await group?.stop();
  await rm(dir, { recursive: true, force: true });
});

const keysOf = (run: string, from = 0, to = STEPS - 1): KeyValue[] => Array.from({ length: to - from + 1 }, (_, i) => [run, BigInt(from + i)]);

test.serial('rangePartition split points at tuple prefixes put each run on its server, as placement asked without servers says', async (t) => {
  t.deepEqual((await client.stat()).map((s) => s.databases['default']!.records), [STEPS, STEPS, 2 * STEPS]);
  const place = placementOf(spec, 3, KEY_TYPE);
  for (const run of RUNS) {
    for (let step = 0; step < STEPS; step++) {
      t.is(place([run, step]), client.serverFor([run, BigInt(step)]), `${run} ${step}`);
    }
  }
  t.deepEqual(RUNS.map((run) => serverFor(spec, 3, [run, 0], KEY_TYPE)), [0, 1, 2, 2]);
  t.is(serverFor(spec, 3, ['mu', 2n ** 62n], KEY_TYPE), 1, 'the whole run, whatever the step');
});

test.serial('the prefix option and tuple-prefix bounds: gte/lt at a run\'s first key, gt/lte after its last', async (t) => {
  const keys = async (range: Parameters<Client['iterate']>[0]): Promise<KeyValue[]> => client.iterate({ ...range, values: false }).all();
  t.deepEqual(await keys({ prefix: ['mu'] }), keysOf('mu'));
  t.deepEqual(await keys({ gte: ['mu'], lte: ['mu'] }), keysOf('mu'));
  t.deepEqual(await keys({ gt: ['la'], lt: ['nu'] }), keysOf('mu'));
  t.deepEqual(await keys({ gt: ['mu'] }), [...keysOf('nu'), ...keysOf('xi')]);
  t.deepEqual(await keys({ lt: ['mu'] }), keysOf('la'));
  t.deepEqual(await keys({ gte: ['mu', 3], lte: ['mu'] }), keysOf('mu', 3));
  t.deepEqual(await keys({ gte: ['la', 8], lt: ['mu', 2] }), [...keysOf('la', 8), ...keysOf('mu', 0, 1)], 'complete keys keep their own meaning');
  t.deepEqual(await client.iterate({ prefix: ['nu'], reverse: true, limit: 2 }).all(), [[['nu', 9n], Buffer.from('nu:9')], [['nu', 8n], Buffer.from('nu:8')]]);
  t.deepEqual(await keys({ prefix: [] }), RUNS.flatMap((run) => keysOf(run)), 'no components: every key');
  t.is(await client.count({ prefix: ['xi'] }), STEPS);
  t.is(await client.count({ prefix: ['mu', 4] }), 1);
  t.is(await client.count({ prefix: ['m'] }), 0, 'a component is whole: "m" is no prefix of "mu"');
  // A run lives on one server, and a prefix is one contiguous range: its scan asks that server alone.
  t.deepEqual(await requestsDuring(client, async () => { t.is((await keys({ prefix: ['mu'] })).length, STEPS); }), [0, 1, 0]);
  const error = t.throws(() => client.iterate({ gte: [] }), { instanceOf: HpckvError });
  t.is(error?.code, ErrorCodes.BAD_KEY);
  t.is(error?.details['reason'], 'wrong arity');
});

test.serial('a procedure and a range delete take a prefix too; a reduce no server holds is init(args)', async (t) => {
  const sum = { kind: 'reduce' as const, source: '({ init: (args) => ({ n: 0, from: args }), step: (acc) => { acc.n++; return acc; }, combine: (a, b) => ({ n: a.n + b.n, from: a.from }) })' };
  t.deepEqual(await (await client.execute<{ n: number; from: unknown }>(sum, { prefix: ['nu'], args: 'nu' })).wait(), { n: STEPS, from: 'nu' });
  const asked = await requestsDuring(client, async () => {
    t.deepEqual(await (await client.execute(sum, { gte: ['xi'], lt: ['la'], args: 'none' })).wait(), { n: 0, from: 'none' });
  });
  t.deepEqual(asked, [0, 0, 0], 'an empty range: no server took part');
  t.is(await client.deleteRange({ prefix: ['xi'] }), STEPS);
  t.deepEqual((await client.stat()).map((s) => s.databases['default']!.records), [STEPS, STEPS, STEPS]);
});

test('launchLocalGroup refuses a bad partition spec with HPCKV_ERR_BAD_CONFIG before it starts any server', async (t) => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['a bigint boundary', { scheme: 'range', boundaries: [10n], epoch: 0 }, /boundaries must be an array of base64 strings of encoded keys \(rangePartition builds them from keys\)/],
    ['a boundary not base64', { scheme: 'range', boundaries: ['mu!', 'bQ=='], epoch: 0 }, /partition\.boundaries: not canonical base64/],
    ['boundaries not increasing', { scheme: 'range', boundaries: ['bg==', 'bQ=='], epoch: 0 }, /strictly increasing/],
    ['too few boundaries', { scheme: 'range', boundaries: ['bQ=='], epoch: 0 }, /must have 2 entries/],
    ['no scheme', { boundaries: [] }, /partition\.scheme must be/],
  ];
  for (const [what, partition, message] of cases) {
    const target = join(dir, `refused-${what.replace(/ /g, '-')}`);
    const error = await t.throwsAsync(launchLocalGroup({ servers: 3, dir: target, partition: partition as PartitionSpec }), { instanceOf: HpckvError }, what);
    t.is(error?.code, ErrorCodes.BAD_CONFIG, what);
    t.regex(error?.message ?? '', message, what);
    t.false(existsSync(target), `${what}: no group directory, so no server was started`);
  }
});
