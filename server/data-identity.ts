import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCodes, HpckvError } from '../core/errors.js';
import { writeAtomically, type KeyType, type PartitionSpec } from '../core/group-file.js';

/**
 * What a server's data directory was created for. Data written under one partition map is
 * only findable under that map, so a server restarted with another key type, scheme, server
 * count or rank refuses to start (MDHIM aborts the whole job instead) and names the mismatch.
 */
export interface DataIdentity {
  service: string;
  keyType: KeyType;
  partition: PartitionSpec;
  serverCount: number;
  rank: number;
}

const IDENTITY_FILE = 'hpckv-identity.json';

export async function checkDataIdentity(dataDir: string, expected: DataIdentity): Promise<void> {
  await mkdir(dataDir, { recursive: true });
  const path = join(dataDir, IDENTITY_FILE);
  let text: string | undefined;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (text === undefined) {
    await writeAtomically(path, JSON.stringify(expected, null, 2) + '\n');
    return;
  }
  let stored: Record<string, unknown>;
  try {
    stored = JSON.parse(text) as Record<string, unknown>;
  } catch (cause) {
    throw new HpckvError(ErrorCodes.GROUP_FILE, `${path} is corrupt (not JSON)`, { cause, details: { path } });
  }
  for (const field of Object.keys(expected) as Array<keyof DataIdentity>) {
    const want = JSON.stringify(expected[field]);
    const have = JSON.stringify(stored[field]);
    if (want !== have) {
      throw new HpckvError(ErrorCodes.GROUP_FILE,
        `data directory ${dataDir} was created with ${field}=${have}, this server was started with ${field}=${want}`,
        { details: { path, field, stored: have ?? null, requested: want } });
    }
  }
}
