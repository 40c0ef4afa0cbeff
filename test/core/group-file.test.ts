import test from 'ava';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, HpckvError } from '../../core/errors.js';
import { DEFAULT_PARTITION, GROUP_FILE_FORMAT, readGroupFile, writeGroupFile, type GroupFile } from '../../core/group-file.js';
import { DEFAULT_LIMITS, resolveLimits } from '../../core/limits.js';

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
