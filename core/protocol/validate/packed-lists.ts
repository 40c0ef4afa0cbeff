import { unpackList } from '../../wire/packed-list.js';

/**
 * Bulk requests may carry their keys and values as packed lists (`packedKeys`, `packedValues`,
 * see core/wire/packed-list.ts) instead of msgpack arrays. This turns them back into the plain
 * `keys`/`values` arrays (views, no copies) so one validator serves both forms.
 */
export function isPackedRequest(body: unknown): boolean {
  return typeof body === 'object' && body !== null && 'packedKeys' in body;
}

export function expandPackedLists(body: unknown, batchEntriesMax: number): unknown {
  if (!isPackedRequest(body)) return body;
  const { packedKeys, packedValues, ...rest } = body as Record<string, unknown>;
  const expanded: Record<string, unknown> = { ...rest, keys: unpackList(packedKeys, 'packedKeys', batchEntriesMax) };
  if (packedValues !== undefined) expanded['values'] = unpackList(packedValues, 'packedValues', batchEntriesMax);
  return expanded;
}
