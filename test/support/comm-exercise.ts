import { ANY_SOURCE, type Communicator } from '../../core/comm/communicator.js';

/**
 * One workout of a world communicator, the same on every backend (sockets and mpi across real
 * processes): ring, fan-in, barrier, bcast, allgather, split and collectives on the child. Each
 * rank returns a plain summary; `expectedExercise` is what rank `rank` of `size` must return.
 */

interface RingMessage {
  from: number;
  bytes: Uint8Array;
  big: bigint;
}

export async function exercise(comm: Communicator): Promise<unknown> {
  const { rank, size } = comm;
  const right = (rank + 1) % size;
  const left = (rank - 1 + size) % size;
  await comm.send(right, 1, { from: rank, bytes: Uint8Array.of(rank, 255), big: 2n ** 60n + BigInt(rank) });
  const ring = await comm.recv<RingMessage>(left, 1);

  let fanIn: Array<[number, unknown]> | null = null;
  if (rank === 0) {
    fanIn = [];
    for (let i = 1; i < size; i++) {
      const { source, data } = await comm.recv(ANY_SOURCE, 2);
      fanIn.push([source, data]);
    }
    fanIn.sort((a, b) => a[0] - b[0]);
  } else {
    await comm.send(0, 2, rank * 100);
  }

  await comm.barrier();
  const last = size - 1;
  const bcast = await comm.bcast<{ msg: string; bytes: Uint8Array }>(last,
    rank === last ? { msg: 'from the last rank', bytes: Uint8Array.of(9, 8, 7) } : undefined);
  const gathered = await comm.allgather(rank * rank);

  const child = await comm.split(rank % 2, -rank);
  const childGather = await child.allgather(rank);
  const childBcast = await child.bcast(0, child.rank === 0 ? `root of color ${rank % 2} is world rank ${rank}` : undefined);
  await child.barrier();
  const childRank = child.rank;
  const childSize = child.size;
  await child.close();
  await comm.barrier();

  return {
    rank,
    size,
    ring: {
      source: ring.source,
      tag: ring.tag,
      from: ring.data.from,
      bytes: ring.data.bytes instanceof Uint8Array ? [...ring.data.bytes] : 'not bytes',
      big: typeof ring.data.big === 'bigint' ? ring.data.big.toString() : 'not bigint',
    },
    fanIn,
    bcast: { msg: bcast.msg, bytes: bcast.bytes instanceof Uint8Array ? [...bcast.bytes] : 'not bytes' },
    gathered,
    child: { rank: childRank, size: childSize, gather: childGather, bcast: childBcast },
  };
}

/** What `exercise` returns on rank `rank` of a world of `size` (even size; split by parity, key -rank). */
export function expectedExercise(rank: number, size: number): unknown {
  const left = (rank - 1 + size) % size;
  const members = Array.from({ length: size }, (_, r) => r).filter((r) => r % 2 === rank % 2).reverse();
  return {
    rank,
    size,
    ring: { source: left, tag: 1, from: left, bytes: [left, 255], big: (2n ** 60n + BigInt(left)).toString() },
    fanIn: rank === 0 ? Array.from({ length: size - 1 }, (_, i) => [i + 1, (i + 1) * 100]) : null,
    bcast: { msg: 'from the last rank', bytes: [9, 8, 7] },
    gathered: Array.from({ length: size }, (_, r) => r * r),
    child: {
      rank: members.indexOf(rank),
      size: members.length,
      gather: members,
      bcast: `root of color ${rank % 2} is world rank ${members[0]}`,
    },
  };
}
