import type { DatabaseStats } from '../../core/protocol/messages.js';

/** What a test expects a database to hold: each key (as text) and its value's length. */
export type StatsModel = Map<string, number>;

/** The exact stats a database holding `model` reports. */
export function statsOf(model: StatsModel): DatabaseStats {
  let keyBytes = 0;
  let valueBytes = 0;
  for (const [key, length] of model) {
    keyBytes += Buffer.byteLength(key);
    valueBytes += length;
  }
  return { records: model.size, keyBytes, valueBytes };
}
