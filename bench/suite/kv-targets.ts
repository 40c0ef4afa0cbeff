import type { ClassicLevel } from 'classic-level';
import type { Redis } from 'ioredis';
import type { Client } from '../../client/client.js';

/** What the bulk and single-operation rows need of a store: hpckv, raw classic-level and Redis alike. */
export interface KvTarget {
  name: string;
  putBatch(keys: Buffer[], values: Buffer[]): Promise<unknown>;
  /** How many of the keys were found. */
  getBatch(keys: Buffer[]): Promise<number>;
  put(key: Buffer, value: Buffer): Promise<unknown>;
  get(key: Buffer): Promise<Buffer | undefined | null>;
}

export function hpckvTarget(client: Client, db: string): KvTarget {
  return {
    name: 'hpckv',
    putBatch: (keys, values) => client.putMany(keys.map((key, i) => [key, values[i]!] as const), { db }),
    getBatch: async (keys) => (await client.getMany(keys, { db })).filter((v) => v !== undefined).length,
    put: (key, value) => client.put(key, value, { db }),
    get: (key) => client.get(key, { db }),
  };
}

/** The same machine's LevelDB in this process, with no server in between. */
export function levelTarget(db: ClassicLevel<Buffer, Buffer>): KvTarget {
  return {
    name: 'classic-level',
    putBatch: (keys, values) => db.batch(keys.map((key, i) => ({ type: 'put' as const, key, value: values[i]! }))),
    getBatch: async (keys) => (await db.getMany(keys)).filter((v) => v !== undefined).length,
    put: (key, value) => db.put(key, value),
    get: (key) => db.get(key),
  };
}

/** Redis through ioredis: MSET / MGET of a batch, SET / GET of one key. */
export function redisTarget(redis: Redis, name: string): KvTarget {
  return {
    name,
    putBatch: (keys, values) => redis.mset(keys.flatMap((key, i) => [key, values[i]!])),
    getBatch: async (keys) => (await redis.mgetBuffer(keys)).filter((v) => v !== null).length,
    put: (key, value) => redis.set(key, value),
    get: (key) => redis.getBuffer(key),
  };
}
