import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, HpckvError } from '../../../core/errors.js';
import { DEFAULT_PARTITION } from '../../../core/group-file.js';
import { checkDataIdentity, type DataIdentity } from '../../../server/data-identity.js';

const identity: DataIdentity = { service: 'svc', keyType: 'bytes', partition: DEFAULT_PARTITION, serverCount: 3, rank: 1 };

test('a data directory accepts the layout it was made for and refuses another, naming the field', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-identity-'));
  await checkDataIdentity(dir, identity);
  await t.notThrowsAsync(checkDataIdentity(dir, identity));
  const changes: Array<[keyof DataIdentity, Partial<DataIdentity>]> = [
    ['serverCount', { serverCount: 4 }],
    ['rank', { rank: 2 }],
    ['partition', { partition: { ...DEFAULT_PARTITION, seed: 7 } }],
    ['service', { service: 'other' }],
  ];
  for (const [field, change] of changes) {
    const error = await t.throwsAsync(checkDataIdentity(dir, { ...identity, ...change }), { instanceOf: HpckvError });
    t.is(error?.code, ErrorCodes.GROUP_FILE);
    t.is(error?.details['field'], field);
  }
  await rm(dir, { recursive: true, force: true });
});

test('a corrupt identity file is a clear GROUP_FILE error', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-identity-'));
  await writeFile(join(dir, 'hpckv-identity.json'), '{not json');
  const error = await t.throwsAsync(checkDataIdentity(dir, identity), { instanceOf: HpckvError });
  t.is(error?.code, ErrorCodes.GROUP_FILE);
  t.regex(error?.message ?? '', /corrupt/);
  await rm(dir, { recursive: true, force: true });
});
