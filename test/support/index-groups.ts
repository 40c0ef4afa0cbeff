import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '../../client/client.js';
import { keyCodec } from '../../core/keys/key-codec.js';
import { parseKeyType, type KeyValue } from '../../core/keys/key-type.js';
import { launchLocalGroup, type LocalGroup } from '../../server/launcher.js';

/**
 * The two groups the secondary-index suites run on, 3 server processes each: a hash group with
 * string primary keys (`${keyPrefix}0007`), and a range group with int32 primary keys cut at 100
 * and 200 and tiny scan pages, so lookups and scans page through entries and replies.
 */
export interface IndexGroup { name: 'hash' | 'range'; group: LocalGroup; client: Client; key: (i: number) => KeyValue; dir: string }

const int32 = keyCodec(parseKeyType('int32'));

export const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

export async function launchIndexGroups(label: string, databases: string[], keyPrefix: string): Promise<IndexGroup[]> {
  const groups: IndexGroup[] = [];
  for (const name of ['hash', 'range'] as const) {
    const dir = await mkdtemp(join(tmpdir(), `hpckv-${label}-${name}-`));
    const group = await launchLocalGroup(name === 'hash'
      ? { servers: 3, dir, keyType: 'string', databases }
      : { servers: 3, dir, keyType: 'int32', databases, limits: { scanPageEntriesMax: 16, scanPageBytesMax: 256 },
        partition: { scheme: 'range', boundaries: [b64(int32.encode(100)), b64(int32.encode(200))], epoch: 0 } });
    const client = await Client.open(group.groupFile);
    groups.push({ name, group, client, dir, key: name === 'hash' ? (i) => `${keyPrefix}${String(i).padStart(4, '0')}` : (i) => i });
  }
  return groups;
}

export async function stopIndexGroups(groups: readonly IndexGroup[]): Promise<void> {
  for (const g of groups) {
    await g.client.close();
    await g.group.stop();
    await rm(g.dir, { recursive: true, force: true });
  }
}
