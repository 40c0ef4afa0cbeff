import { ClassicLevel } from 'classic-level';
import type { DatabaseStats } from '../../core/protocol/messages.js';

/** What a closed store really holds, counted with a raw classic-level scan of its directory. */
export async function scanDirectory(location: string): Promise<DatabaseStats> {
  const db = new ClassicLevel<Buffer, Buffer>(location, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  const result = { records: 0, keyBytes: 0, valueBytes: 0 };
  for await (const [key, value] of db.iterator()) {
    result.records++;
    result.keyBytes += key.length;
    result.valueBytes += value.length;
  }
  await db.close();
  return result;
}
