import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '../../../client/client.js';
import { HpcLevel } from '../../../client/hpc-level.js';
import { launchLocalGroup, type LocalGroup } from '../../../server/launcher.js';

/**
 * HpcLevel where abstract-level's suite does not look: one level whose keys span every server
 * of a range group (its boundaries cut the level's key space), prefix isolation next to native
 * hpckv keys, and a level that opens (and owns) its own Client from the group file.
 */
let dir: string;
let group: LocalGroup;
let client: Client;

const PREFIX = 'lvl/';
const keys = Array.from({ length: 40 }, (_, i) => `k${String(i).padStart(2, '0')}`);

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hpckv-level-'));
  // Servers 0..3 own lvl/k00..k09, k10..k19, k20..k29, k30..
  const boundaries = ['k10', 'k20', 'k30'].map((k) => Buffer.from(PREFIX + k).toString('base64'));
  group = await launchLocalGroup({ servers: 4, dir, partition: { scheme: 'range', boundaries, epoch: 0 } });
  client = await Client.open(group.groupFile);
});

test.after.always(async () => {
  await client?.close();
  await group?.stop();
  await rm(dir, { recursive: true, force: true });
});

test.serial('a level spanning every server of a range group: batch, reads, iterators, seek and clear in key order', async (t) => {
  const db = new HpcLevel({ group: client, prefix: PREFIX });
  await db.open();
  await db.batch(keys.map((key) => ({ type: 'put' as const, key, value: `v${key}` })));
  const records = (await client.stat()).map((s) => s.databases['default']!.records);
  t.deepEqual(records, [10, 10, 10, 10], 'the batch reached every server');

  t.is(await db.get('k25'), 'vk25');
  t.deepEqual(await db.getMany(['k01', 'k39', 'nope']), ['vk01', 'vk39', undefined]);
  t.deepEqual(await db.hasMany(['k11', 'k21', 'zz']), [true, true, false]);
  t.deepEqual(await db.keys().all(), keys);
  t.deepEqual(await db.keys({ reverse: true }).all(), [...keys].reverse());
  t.deepEqual(await db.keys({ gt: 'k08', lte: 'k31', limit: 5 }).all(), ['k09', 'k10', 'k11', 'k12', 'k13']);
  t.deepEqual(await db.keys({ reverse: true, lt: 'k22', limit: 3 }).all(), ['k21', 'k20', 'k19']);
  t.deepEqual(await db.values({ gte: 'k29', lt: 'k31' }).all(), ['vk29', 'vk30']);

  const it = db.iterator();
  t.deepEqual(await it.next(), ['k00', 'vk00']);
  it.seek('k35');
  t.deepEqual(await it.nextv(2), [['k35', 'vk35'], ['k36', 'vk36']]);
  it.seek('k05');
  t.deepEqual((await it.nextv(7)).map(([key]) => key), ['k05', 'k06', 'k07', 'k08', 'k09', 'k10', 'k11'], 'seek back, across a server boundary');
  await it.close();

  await db.clear({ gte: 'k15', limit: 10 });
  t.is((await db.keys().all()).length, 30);
  t.deepEqual(await db.keys({ gte: 'k13', lt: 'k27' }).all(), ['k13', 'k14', 'k25', 'k26']);
  await db.clear({ reverse: true, limit: 3 });
  t.deepEqual((await db.keys({ gte: 'k35' }).all()), ['k35', 'k36']);
  await db.clear({ gt: 'k05', lt: 'k35' });
  t.deepEqual(await db.keys().all(), ['k00', 'k01', 'k02', 'k03', 'k04', 'k05', 'k35', 'k36']);
  await db.clear();
  t.deepEqual(await db.keys().all(), []);
  await db.close();
});

test.serial('levels under different prefixes share one hpckv database in isolation; clear stays inside the prefix', async (t) => {
  await client.putMany([['native', 'n'], ['lvl', 'x'], ['lvm/a', 'y']]);
  const a = new HpcLevel({ group: client, prefix: 'lvl/a/' });
  const b = new HpcLevel<string, { in: string }>({ group: client, prefix: 'lvl/b/', valueEncoding: 'json' });
  await a.put('', 'empty key');
  await a.put('same', 'in a');
  await b.put('same', { in: 'b' });
  t.is(await a.get(''), 'empty key', 'the empty key is storable under the prefix');
  t.is(await a.get('same'), 'in a');
  t.deepEqual(await b.get('same'), { in: 'b' });
  t.deepEqual(await a.keys().all(), ['', 'same']);
  await a.clear();
  t.deepEqual(await a.keys().all(), []);
  t.deepEqual(await b.keys().all(), ['same']);
  await b.clear();
  t.deepEqual((await client.getMany(['native', 'lvl', 'lvm/a'])).map((v) => v?.toString()), ['n', 'x', 'y'], 'keys outside the prefixes are untouched');
  await Promise.all([a.close(), b.close()]);
  t.throws(() => new HpcLevel({ group: client, prefix: '' }), { instanceOf: TypeError });
});

test.serial('a level opened from a group file path owns its Client: closed on close(), opened again on reopen', async (t) => {
  const db = new HpcLevel({ group: group.groupFile, prefix: 'own/' });
  await db.open();
  const first = db.client;
  await db.put('key', 'value');
  await db.close();
  t.throws(() => db.client, { message: /not open/ });
  await db.open();
  t.not(db.client, first, 'a new Client after reopening');
  t.is(await db.get('key'), 'value', 'permanent across close and reopen');
  await db.clear();
  await db.close();

  const missing = new HpcLevel({ group: client, db: 'no-such-db' });
  const error = await t.throwsAsync(missing.open());
  t.is((error as Error & { code?: string }).code, 'LEVEL_DATABASE_NOT_OPEN');
});
