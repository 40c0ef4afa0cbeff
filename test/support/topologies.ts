import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '../../client/client.js';
import type { PartitionSpec } from '../../core/group-file.js';
import { keyCodec } from '../../core/keys/key-codec.js';
import { parseKeyType, type KeyValue } from '../../core/keys/key-type.js';
import type { Limits } from '../../core/limits.js';
import { RangeTable } from '../../partition/range-table.js';
import { launchLocalGroup, type LocalGroup } from '../../server/launcher.js';

/**
 * The topologies of the topology suite (docs/design.md, "Conventions", Tests): the same scenarios run on a group of
 * real server processes partitioned by each scheme.
 */

export const SERVERS = 4;

export type TopologyName = 'hash' | 'range' | 'slices';

export interface Topology {
  readonly name: TopologyName;
  /**
   * The partition spec of a group of `keyType` that will hold keys like `sample`, or undefined
   * when the scheme cannot partition that key type.
   */
  partition(keyType: string, sample: readonly KeyValue[], servers?: number): PartitionSpec | undefined;
}

/**
 * Slice sizes of the slices topology per key type. MDHIM slices are defined on scalar keys only
 * (the group file refuses a tuple partition.keyType), so tuple key types have no slices group.
 */
const SLICE_SIZES: Readonly<Record<string, number | string>> = {
  int64: 50,
  float64: 50,
  // 2^56 in the 64-bit prefix space of string keys: a string's slice is its first UTF-8 byte.
  string: '72057594037927936',
};

export const TOPOLOGIES: readonly Topology[] = [
  { name: 'hash', partition: () => ({ scheme: 'hash', virtualNodes: 256, seed: 0 }) },
  {
    name: 'range',
    partition: (keyType, sample, servers = SERVERS) => {
      const codec = keyCodec(parseKeyType(keyType));
      return RangeTable.fromSample(sample.map((key) => codec.encode(key)), servers).toSpec();
    },
  },
  {
    name: 'slices',
    partition: (keyType) => {
      const sliceSize = SLICE_SIZES[keyType];
      return sliceSize === undefined ? undefined : { scheme: 'slices', sliceSize, keyType };
    },
  },
];

/** What a shared group of one key type looks like (the same on every topology). */
export interface GroupSpec {
  readonly keyType: string;
  /** Keys like the ones the scenarios store (the range topology's boundaries come from it). */
  readonly sample: readonly KeyValue[];
  /** One database per scenario, so scenarios sharing the group do not see each other's keys. */
  readonly databases: readonly string[];
  readonly limits?: Partial<Limits>;
}

export interface RunningGroup {
  readonly group: LocalGroup;
  readonly client: Client;
}

/** Launches a group of SERVERS server processes partitioned by `partition`. */
export async function launchTopology(dir: string, spec: GroupSpec, partition: PartitionSpec,
  servers = SERVERS): Promise<RunningGroup> {
  const group = await launchLocalGroup({
    servers, dir, keyType: spec.keyType, partition, databases: [...spec.databases],
    ...(spec.limits === undefined ? {} : { limits: spec.limits }),
  });
  try {
    return { group, client: await Client.open(group.groupFile) };
  } catch (error) {
    await group.stop();
    throw error;
  }
}

/**
 * Groups shared by the scenarios of a test file: one per topology and key type, launched the
 * first time a scenario asks for it, all stopped (and their directories removed) by stopAll().
 */
export class SharedGroups {
  private readonly running = new Map<string, Promise<RunningGroup>>();
  private readonly dirs: string[] = [];

  /** The group of `topology` for `spec`; undefined when the topology cannot hold its key type. */
  get(topology: Topology, spec: GroupSpec): Promise<RunningGroup> | undefined {
    const partition = topology.partition(spec.keyType, spec.sample);
    if (partition === undefined) return undefined;
    const id = `${topology.name}/${spec.keyType}`;
    let running = this.running.get(id);
    if (running === undefined) {
      running = this.tempDir(`hpckv-topo-${topology.name}-`).then((dir) => launchTopology(dir, spec, partition));
      // A failed launch fails the scenarios that asked; stopAll() must not throw on it again.
      running.catch(() => undefined);
      this.running.set(id, running);
    }
    return running;
  }

  /** A fresh directory, removed by stopAll(). */
  async tempDir(prefix: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    this.dirs.push(dir);
    return dir;
  }

  async stopAll(): Promise<void> {
    const groups = await Promise.allSettled(this.running.values());
    await Promise.all(groups.map(async (settled) => {
      if (settled.status !== 'fulfilled') return;
      await settled.value.client.close();
      await settled.value.group.stop();
    }));
    await Promise.all(this.dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  }
}

/** Entries walked by FIRST then NEXT until end of data. */
export async function walkForward(client: Client, db: string): Promise<Array<[KeyValue, string]>> {
  const out: Array<[KeyValue, string]> = [];
  for (let entry = await client.first({ db }); entry !== undefined; entry = await client.next(entry[0], { db })) {
    out.push([entry[0], entry[1].toString()]);
  }
  return out;
}

/** Entries walked by LAST then PREV until the start of data. */
export async function walkBackward(client: Client, db: string): Promise<Array<[KeyValue, string]>> {
  const out: Array<[KeyValue, string]> = [];
  for (let entry = await client.last({ db }); entry !== undefined; entry = await client.prev(entry[0], { db })) {
    out.push([entry[0], entry[1].toString()]);
  }
  return out;
}
