// The CLI in the store's key type: typed keys in and out (int64 exact beyond 2^53, tuples as JSON),
// the ordered reads (scan, count, first, last, next, prev) with their bounds and output forms,
// `where` from the group file alone, and range groups launched from the command line.
import test, { type ExecutionContext } from 'ava';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '../../client/client.js';
import { readGroupFile } from '../../core/group-file.js';
import { keyCodec } from '../../core/keys/key-codec.js';
import { parseKeyType } from '../../core/keys/key-type.js';
import { launchLocalGroup, type LocalGroup } from '../../server/launcher.js';
import { launchedGroupFile, runCli as run, startCli } from '../support/cli-process.js';

async function tempDir(t: ExecutionContext, name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `hpckv-${name}-`));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function group(t: ExecutionContext, keyType: string): Promise<LocalGroup> {
  const launched = await launchLocalGroup({ servers: 2, dir: await tempDir(t, 'cli-keys'), keyType });
  t.teardown(() => launched.stop());
  return launched;
}

/** Runs `hpckv ARGS --group G` and expects exit 0 with exactly `stdout`. */
async function expectOut(t: ExecutionContext, groupFile: string, args: string[], stdout: string): Promise<void> {
  const result = await run([...args, '--group', groupFile]);
  t.deepEqual(result, { code: 0, stdout, stderr: '' }, args.join(' '));
}

const MAX = '9223372036854775807';
const ABOVE_2_53 = '9007199254740993';

test('an int64 store from the CLI: keys are read as int64 (exact beyond 2^53), and the ordered reads take typed bounds', async (t) => {
  const { groupFile } = await group(t, 'int64');
  for (const [key, value] of [['42', 'answer'], ['-5', 'neg'], [MAX, 'max'], [ABOVE_2_53, 'odd'], ['9007199254740992', 'even']]) {
    const put = await run(['put', '--group', groupFile, '--', key!, value!]);
    t.is(put.code, 0, put.stderr);
  }
  // The CLI's keys are the library's: a typed client reads them back as bigints.
  const client = await Client.open(groupFile);
  t.is((await client.get(42n))?.toString(), 'answer');
  t.is((await client.get(BigInt(ABOVE_2_53)))?.toString(), 'odd');
  await client.close();
  await expectOut(t, groupFile, ['get', ABOVE_2_53], 'odd\n');
  await expectOut(t, groupFile, ['scan'], `-5\tneg\n42\tanswer\n9007199254740992\teven\n${ABOVE_2_53}\todd\n${MAX}\tmax\n`);
  await expectOut(t, groupFile, ['scan', '--gt=-5', '--lte', ABOVE_2_53, '--limit', '2'], '42\tanswer\n9007199254740992\teven\n');
  await expectOut(t, groupFile, ['scan', '--reverse', '--gte', '42', '--lt', MAX, '--json'],
    `{"key":${ABOVE_2_53},"value":"odd"}\n{"key":9007199254740992,"value":"even"}\n{"key":42,"value":"answer"}\n`);
  await expectOut(t, groupFile, ['count', '--gte', '0'], '4\n');
  await expectOut(t, groupFile, ['count'], '5\n');
  await expectOut(t, groupFile, ['first'], '-5\tneg\n');
  await expectOut(t, groupFile, ['last', '--lt', MAX], `${ABOVE_2_53}\todd\n`);
  await expectOut(t, groupFile, ['next', '43', '--limit', '2'], `9007199254740992\teven\n${ABOVE_2_53}\todd\n`);
  await expectOut(t, groupFile, ['prev', '--json', '42'], '{"key":-5,"value":"neg"}\n');
  const none = await run(['next', '--group', groupFile, MAX]);
  t.deepEqual(none, { code: 1, stdout: '', stderr: `not found: no key after ${MAX}\n` });
  const empty = await run(['first', '--group', groupFile, '--gt', MAX]);
  t.deepEqual(empty, { code: 1, stdout: '', stderr: 'not found: no key in the range\n' });
  t.is((await run(['del', '--group', groupFile, '--', '-5'])).code, 0);
  await expectOut(t, groupFile, ['first'], '42\tanswer\n');
  const notInt = await run(['get', '--group', groupFile, '4.5']);
  t.is(notInt.code, 1);
  t.regex(notInt.stderr, /^hpckv: HPCKV_ERR_BAD_KEY: key "4\.5": int64 keys are written as decimal integers\n$/);
  const tooBig = await run(['get', '--group', groupFile, '9223372036854775808']);
  t.is(tooBig.code, 1);
  t.regex(tooBig.stderr, /^hpckv: HPCKV_ERR_BAD_KEY: key "9223372036854775808" is not a key of type int64: /);
  const twoLower = await run(['scan', '--group', groupFile, '--gt', '1', '--gte', '2']);
  t.deepEqual(twoLower, { code: 2, stdout: '', stderr: 'hpckv: give --gte or --gt, not both\nrun "hpckv help scan" for usage\n' });
});

test('a float64 store from the CLI: -0, 0 and the infinities are keys, written back the way they are read', async (t) => {
  const { groupFile } = await group(t, 'float64');
  for (const key of ['0', '-0', '-Infinity', '1.5', 'Infinity', '-2.25e300']) t.is((await run(['put', '--group', groupFile, '--', key, `v${key}`])).code, 0, key);
  await expectOut(t, groupFile, ['scan'], '-Infinity\tv-Infinity\n-2.25e+300\tv-2.25e300\n-0\tv-0\n0\tv0\n1.5\tv1.5\nInfinity\tvInfinity\n');
  await expectOut(t, groupFile, ['scan', '--json', '--gte=-0', '--lt', 'Infinity'], '{"key":-0,"value":"v-0"}\n{"key":0,"value":"v0"}\n{"key":1.5,"value":"v1.5"}\n');
  await expectOut(t, groupFile, ['last', '--json'], '{"key":"Infinity","value":"vInfinity"}\n');
  t.deepEqual(await run(['get', '--group', groupFile, '--', '-0']), { code: 0, stdout: 'v-0\n', stderr: '' });
});

test('a tuple store from the CLI: keys as JSON arrays, --prefix by first components, unprintable bytes escaped and in JSON as base64', async (t) => {
  const { groupFile } = await group(t, 'tuple(string,uint64,bytes)');
  const entries: Array<[string, string]> = [['["run",1,"a"]', 'one'], ['["run",2,"a"]', 'two\tcols\nlines'], ['["runner",1,"a"]', 'other'],
    [`["run",${ABOVE_2_53},{"base64":"/wA="}]`, 'big']];
  for (const [key, value] of entries) t.is((await run(['put', '--group', groupFile, key, value])).code, 0, key);
  const client = await Client.open(groupFile);
  t.is((await client.get(['run', BigInt(ABOVE_2_53), Buffer.from([0xff, 0])]))?.toString(), 'big');
  await client.put(['zz', 0n, Buffer.from('k')], Buffer.from([0x41, 0xff, 0x5c]));
  await client.close();
  await expectOut(t, groupFile, ['scan', '--prefix', '["run"]'],
    `["run",1,"a"]\tone\n["run",2,"a"]\ttwo\\tcols\\nlines\n["run",${ABOVE_2_53},{"base64":"/wA="}]\tbig\n`);
  await expectOut(t, groupFile, ['scan', '--prefix', '["run",2]', '--json'], '{"key":["run",2,"a"],"value":"two\\tcols\\nlines"}\n');
  await expectOut(t, groupFile, ['count', '--prefix', '["run"]'], '3\n');
  await expectOut(t, groupFile, ['last'], '["zz",0,"k"]\tA\\xff\\x5c\n');
  await expectOut(t, groupFile, ['last', '--json'], '{"key":["zz",0,"k"],"value":{"base64":"Qf9c"}}\n');
  await expectOut(t, groupFile, ['get', '["runner",1,"a"]'], 'other\n');
  const wrong = await run(['get', '--group', groupFile, '["run","1","a"]']);
  t.deepEqual(wrong, { code: 1, stdout: '', stderr: 'hpckv: HPCKV_ERR_BAD_KEY: key[1]: expected an integer (uint64), got "1"\n' });
});

test('hpckv where names the rank that holds a key from the group file alone, in the store\'s key type, while no server runs', async (t) => {
  const dir = await tempDir(t, 'cli-where');
  const launched = await launchLocalGroup({ servers: 3, dir, keyType: 'tuple(string,int64)' });
  const client = await Client.open(launched.groupFile);
  await launched.stop();
  for (const key of [['a', 1n], ['m', -7n], ['run', BigInt(MAX)], ['', 0n]] as const) {
    const rank = client.serverFor(key);
    const text = `[${JSON.stringify(key[0])},${key[1]}]`;
    await expectOut(t, launched.groupFile, ['where', text], `${rank}\t${launched.group.servers[rank]!.address}\n`);
  }
  await client.close();
});

test('hpckv launch --partition range: split points are keys of the store\'s type (exact beyond 2^53), or chosen from a sample for equal shares', async (t) => {
  const dir = await tempDir(t, 'cli-range');
  const launch = startCli(['launch', '--servers', '2', '--dir', dir, '--key-type', 'uint64', '--partition', 'range', '--split-points', `[${ABOVE_2_53}]`]);
  const groupFile = await launchedGroupFile(launch);
  const codec = keyCodec(parseKeyType('uint64'));
  const { partition } = await readGroupFile(groupFile);
  t.deepEqual(partition, { scheme: 'range', boundaries: [codec.encode(BigInt(ABOVE_2_53)).toString('base64')], epoch: 0 });
  await expectOut(t, groupFile, ['where', '9007199254740992'], `0\tunix://${join(dir, 'server-0.sock')}\n`);
  await expectOut(t, groupFile, ['where', ABOVE_2_53], `1\tunix://${join(dir, 'server-1.sock')}\n`);
  launch.child.kill('SIGINT');
  t.is((await launch.done).code, 0);

  const sample = join(dir, 'sample.txt');
  await writeFile(sample, ['["b",2]', '["a",1]', '["c",3]', '["a",1]', '["d",4]', '["e",5]', '["f",6]', ''].join('\n'));
  const sampled = startCli(['launch', '--servers', '3', '--dir', join(dir, 'sampled'), '--key-type', 'tuple(string,int32)', '--partition', 'range', '--sample', sample]);
  const tuples = keyCodec(parseKeyType('tuple(string,int32)'));
  // 6 distinct keys over 3 servers: two each, so the split points are the 3rd and the 5th.
  t.deepEqual((await readGroupFile(await launchedGroupFile(sampled))).partition,
    { scheme: 'range', boundaries: [tuples.encode(['c', 3]), tuples.encode(['e', 5])].map((b) => b.toString('base64')), epoch: 0 });
  sampled.child.kill('SIGINT');
  t.is((await sampled.done).code, 0);
});

test('hpckv launch refuses bad split points or a bad sample with HPCKV_ERR_BAD_CONFIG naming what is wrong, before any server starts', async (t) => {
  const dir = await tempDir(t, 'cli-range-bad');
  const sample = join(dir, 'sample.txt');
  await writeFile(sample, '1\n2\nthree\n');
  const cases: Array<[string[], string]> = [
    [['--split-points', '[200, 100]'], '--split-points: boundaries must be strictly increasing; boundary 1 is not greater than boundary 0'],
    [['--split-points', '[100]'], '--split-points: 3 servers need 2 split points, got 1'],
    [['--split-points', '[100, "x"]'], '--split-points[1]: expected an integer (int64), got "x"'],
    [['--split-points', '[100,'], '--split-points: a JSON array of keys: not JSON at offset 5: expected a value, found the end'],
    [['--sample', sample], `--sample ${sample} line 3 "three": int64 keys are written as decimal integers`],
    [['--sample', join(dir, 'missing.txt')], `--sample ${join(dir, 'missing.txt')}: cannot be read (ENOENT)`],
  ];
  for (const [flags, message] of cases) {
    const data = join(dir, 'group');
    const result = await run(['launch', '--servers', '3', '--dir', data, '--key-type', 'int64', '--partition', 'range', ...flags]);
    t.deepEqual(result, { code: 1, stdout: '', stderr: `hpckv: HPCKV_ERR_BAD_CONFIG: ${message}\n` }, flags.join(' '));
    t.deepEqual((await readdir(dir)).sort(), ['sample.txt'], 'no server was started');
  }
  const bare = await run(['launch', '--servers', '2', '--dir', join(dir, 'group'), '--partition', 'range']);
  t.is(bare.code, 2);
  t.regex(bare.stderr, /^hpckv: --partition range needs --split-points JSON or --sample FILE/);
});
