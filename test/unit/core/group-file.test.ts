import test from 'ava';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, HpckvError } from '../../../core/errors.js';
import { DEFAULT_PARTITION, GROUP_FILE_FORMAT, parseGroupFile, readGroupFile, writeGroupFile, type GroupFile } from '../../../core/group-file.js';
import { DEFAULT_LIMITS, resolveLimits } from '../../../core/limits.js';
import { checkPartitionSpec } from '../../../core/partition-spec.js';

const group: GroupFile = {
  format: GROUP_FILE_FORMAT, service: 'svc', keyType: 'bytes', partition: DEFAULT_PARTITION, epoch: 0,
  limits: { valueBytesMax: 1024 }, createdAt: '2026-01-01T00:00:00.000Z',
  servers: [{ rank: 0, address: 'tcp://127.0.0.1:7000', databases: ['default'] }, { rank: 1, address: 'unix:///tmp/s1.sock', databases: ['default', 'b'] }],
};

test('group files round-trip and are written without leftovers', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-group-'));
  const path = join(dir, 'group.json');
  await writeGroupFile(path, group);
  t.deepEqual(await readGroupFile(path), group);
  t.deepEqual(await readdir(dir), ['group.json']);
  await rm(dir, { recursive: true, force: true });
});

test('missing, corrupt and malformed group files are HPCKV_ERR_GROUP_FILE with the reason', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-group-'));
  const path = join(dir, 'group.json');
  const missing = await t.throwsAsync(readGroupFile(path), { instanceOf: HpckvError });
  t.is(missing?.code, ErrorCodes.GROUP_FILE);
  t.regex(missing?.message ?? '', /does not exist/);
  const cases: Array<[string, RegExp]> = [
    ['{"format": 1, "service": "s"', /not valid JSON/],
    [JSON.stringify({ ...group, format: 2 }), /format must be 1/],
    [JSON.stringify({ ...group, servers: [] }), /servers must be a non-empty array/],
    [JSON.stringify({ ...group, servers: [{ ...group.servers[1], rank: 1 }] }), /servers\[0\]\.rank must be 0/],
    [JSON.stringify({ ...group, servers: [{ ...group.servers[0], address: 'http://x' }] }), /address must be/],
    [JSON.stringify({ ...group, partition: { scheme: 'hash', virtualNodes: 0, seed: 0 } }), /virtualNodes/],
    [JSON.stringify({ ...group, keyType: 'float' }), /unsupported keyType/],
  ];
  for (const [text, reason] of cases) {
    await writeFile(path, text);
    const error = await t.throwsAsync(readGroupFile(path), { instanceOf: HpckvError });
    t.is(error?.code, ErrorCodes.GROUP_FILE);
    t.regex(error?.message ?? '', reason);
  }
  await rm(dir, { recursive: true, force: true });
});

test('limits resolve over the defaults and bad values are refused at start-up', (t) => {
  t.deepEqual(resolveLimits(), { ...DEFAULT_LIMITS });
  t.is(resolveLimits({ valueBytesMax: 10 }, { keyBytesMax: 20 }).keyBytesMax, 20);
  for (const bad of [{ keyBytesMax: 0 }, { valueBytesMax: -1 }, { batchEntriesMax: 1.5 }, { frameBytesMax: 100 },
    { nonsense: 1 } as unknown as Record<string, number>, { requestTimeoutMs: Number.NaN }]) {
    const error = t.throws(() => resolveLimits(bad), { instanceOf: HpckvError });
    t.is(error?.code, ErrorCodes.BAD_CONFIG);
  }
  t.is(resolveLimits({ requestTimeoutMs: 0 }).requestTimeoutMs, 0);
});

const three: GroupFile = {
  ...group,
  servers: [0, 1, 2].map((rank) => ({ rank, address: `inproc://s${rank}`, databases: ['default'] })),
};
const b64 = (text: string): string => Buffer.from(text).toString('base64');

test('range and slice partition specs parse and round-trip', async (t) => {
  const range: GroupFile = { ...three, partition: { scheme: 'range', boundaries: [b64('g'), b64('p')], epoch: 4 } };
  t.deepEqual(parseGroupFile(JSON.parse(JSON.stringify(range))), range);
  for (const partition of [
    { scheme: 'slices', sliceSize: 50, keyType: 'int64' },
    { scheme: 'slices', sliceSize: '18446744073709551616', keyType: 'uint64' },
    { scheme: 'slices', sliceSize: 0.25, keyType: 'float64' },
    { scheme: 'slices', sliceSize: '72057594037927936', keyType: 'string' },
  ] as const) {
    const sliced: GroupFile = { ...three, keyType: partition.keyType, partition: { ...partition } };
    t.deepEqual(parseGroupFile(JSON.parse(JSON.stringify(sliced))), sliced);
  }
  // A bytes store may slice as string (both use their first 8 bytes); other types must match.
  t.is(parseGroupFile({ ...three, partition: { scheme: 'slices', sliceSize: 10, keyType: 'string' } }).keyType, 'bytes');
  for (const [keyType, sliceKeyType] of [['int32', 'int64'], ['bytes', 'uint64'], ['float64', 'float32'], ['tuple(string,int64)', 'string']]) {
    const error = t.throws(() => parseGroupFile({ ...three, keyType, partition: { scheme: 'slices', sliceSize: 10, keyType: sliceKeyType } }),
      { instanceOf: HpckvError });
    t.is(error?.code, ErrorCodes.GROUP_FILE);
    t.regex(error?.message ?? '', new RegExp(`partition\\.keyType ${sliceKeyType} does not match the store's key type`));
  }
  t.deepEqual(parseGroupFile({ ...group, servers: [group.servers[0]], partition: { scheme: 'range', boundaries: [], epoch: 0 } }).partition,
    { scheme: 'range', boundaries: [], epoch: 0 });
  // Unknown fields of a spec are dropped, not carried along.
  t.deepEqual(parseGroupFile({ ...three, partition: { scheme: 'range', boundaries: [b64('g'), b64('p')], epoch: 0, virtualNodes: 3 } }).partition,
    { scheme: 'range', boundaries: [b64('g'), b64('p')], epoch: 0 });
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-group-'));
  await writeGroupFile(join(dir, 'group.json'), range);
  t.deepEqual(await readGroupFile(join(dir, 'group.json')), range);
  await rm(dir, { recursive: true, force: true });
});

/** Partition specs a group of three servers (of bytes keys) must refuse, each with its reason. */
const BAD_PARTITIONS: Array<[unknown, RegExp]> = [
  [{ scheme: 'nope' }, /partition\.scheme must be "hash", "range" or "slices"/],
  [{ scheme: 'range', boundaries: [b64('g')], epoch: 0 }, /must have 2 entries .* got 1/],
  [{ scheme: 'range', boundaries: [b64('g'), b64('p'), b64('z')], epoch: 0 }, /must have 2 entries/],
  [{ scheme: 'range', boundaries: [b64('p'), b64('g')], epoch: 0 }, /strictly increasing/],
  [{ scheme: 'range', boundaries: [b64('g'), b64('g')], epoch: 0 }, /strictly increasing/],
  [{ scheme: 'range', boundaries: [b64('g'), 'not base64!'], epoch: 0 }, /base64/],
  [{ scheme: 'range', boundaries: ['', b64('g')], epoch: 0 }, /boundary 0 is empty/],
  [{ scheme: 'range', boundaries: [1, 2], epoch: 0 }, /array of base64 strings/],
  [{ scheme: 'range', boundaries: [b64('g'), b64('p')], epoch: -1 }, /partition\.epoch/],
  [{ scheme: 'range', boundaries: [b64('g'), b64('p')] }, /partition\.epoch/],
  [{ scheme: 'slices', sliceSize: 50, keyType: 'decimal' }, /partition\.keyType must be one of/],
  [{ scheme: 'slices', sliceSize: 0, keyType: 'int64' }, /partition\.sliceSize: .*>= 1/],
  [{ scheme: 'slices', sliceSize: 1.5, keyType: 'int64' }, /partition\.sliceSize/],
  [{ scheme: 'slices', sliceSize: '12x', keyType: 'uint64' }, /partition\.sliceSize/],
  [{ scheme: 'slices', sliceSize: '1', keyType: 'float64' }, /partition\.sliceSize: .*positive finite number/],
  [{ scheme: 'slices', keyType: 'int64' }, /partition\.sliceSize must be a number or a decimal string/],
  [{ scheme: 'hash', virtualNodes: 8 }, /partition\.seed/],
  [{ scheme: 'range', boundaries: [10n, 20n], epoch: 0 }, /array of base64 strings/],
  [{ scheme: 'slices', sliceSize: 10, keyType: 'int64' }, /partition\.keyType int64 does not match the store's key type bytes/],
];

test('bad partition specs are HPCKV_ERR_GROUP_FILE with the reason', (t) => {
  for (const [partition, reason] of BAD_PARTITIONS) {
    const error = t.throws(() => parseGroupFile({ ...three, partition }, 'g.json'), { instanceOf: HpckvError }, String(reason));
    t.is(error?.code, ErrorCodes.GROUP_FILE);
    t.regex(error?.message ?? '', reason);
    t.regex(error?.message ?? '', /^group file g\.json: /);
  }
});

test('a partition spec given in code is checked by the same rules: HPCKV_ERR_BAD_CONFIG with the reason', (t) => {
  for (const [partition, reason] of BAD_PARTITIONS) {
    const error = t.throws(() => checkPartitionSpec(partition, 3), { instanceOf: HpckvError }, String(reason));
    t.is(error?.code, ErrorCodes.BAD_CONFIG);
    t.regex(error?.message ?? '', reason);
    t.regex(error?.message ?? '', /^bad partition spec: /);
    t.deepEqual(error?.details, { field: 'partition' });
  }
  const range = { scheme: 'range', boundaries: [b64('g'), b64('p')], epoch: 2, extra: true };
  t.deepEqual(checkPartitionSpec(range, 3), { scheme: 'range', boundaries: [b64('g'), b64('p')], epoch: 2 }, 'a clean copy');
  t.deepEqual(checkPartitionSpec({ scheme: 'slices', sliceSize: 10, keyType: 'int64' }, 2, 'int64'), { scheme: 'slices', sliceSize: 10, keyType: 'int64' });
  t.is(t.throws(() => checkPartitionSpec(DEFAULT_PARTITION, 2, 'int65'), { instanceOf: HpckvError })?.code, ErrorCodes.BAD_CONFIG);
  t.throws(() => checkPartitionSpec(DEFAULT_PARTITION, 0), { instanceOf: RangeError });
});

test('a group with a shared secret round-trips; a bad auth section is HPCKV_ERR_GROUP_FILE with the reason', (t) => {
  const secret = Buffer.alloc(32, 9).toString('base64');
  const withAuth: GroupFile = { ...group, auth: { scheme: 'hmac-sha256', secret } };
  t.deepEqual(parseGroupFile(JSON.parse(JSON.stringify(withAuth))), withAuth);
  const cases: Array<[unknown, RegExp]> = [
    ['yes', /auth must be an object/],
    [{ scheme: 'plain', secret }, /auth\.scheme must be "hmac-sha256"/],
    [{ scheme: 'hmac-sha256', secret: 42 }, /auth\.secret must be a base64 string/],
    [{ scheme: 'hmac-sha256', secret: 'not base64!' }, /auth\.secret is not canonical base64/],
    [{ scheme: 'hmac-sha256', secret: Buffer.alloc(15).toString('base64') }, /auth\.secret must be 16\.\.1024 bytes, got 15/],
  ];
  for (const [auth, reason] of cases) {
    const error = t.throws(() => parseGroupFile({ ...group, auth }), { instanceOf: HpckvError });
    t.is(error?.code, ErrorCodes.GROUP_FILE);
    t.regex(error!.message, reason);
  }
});
