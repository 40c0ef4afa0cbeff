import { readdirSync } from 'node:fs';
import type { RootJoins } from './root-joins.js';
import type { PeerRecord, SocketRendezvous } from './socket-protocol.js';

/** Where a socket endpoint's start-up stands: what the message of its timeout is made from. */
export interface StartupProgress {
  rank: number;
  size: number;
  rendezvous: SocketRendezvous;
  listenAddress: string;
  listening: boolean;
  /** The address table, once the rendezvous gave it. */
  table: readonly PeerRecord[] | undefined;
  /** Rank 0 under a root address: who has joined. */
  joins: RootJoins;
  /** The established connection of each peer, by world rank (undefined where none yet). */
  peers: ReadonlyArray<object | undefined>;
}

/** "rank 3" or "ranks 1, 2, 5" (the first ten). */
function formatRanks(ranks: readonly number[]): string {
  const shown = ranks.slice(0, 10).join(', ');
  return (ranks.length === 1 ? 'rank ' : 'ranks ') + (ranks.length > 10 ? `${shown} and ${ranks.length - 10} more` : shown);
}

/** For the start-up timeout: what is still missing, from the first step not done. */
export function describeStartupWait(progress: StartupProgress): string {
  const { rendezvous, rank, size } = progress;
  if (!progress.listening) return `listening on ${progress.listenAddress}`;
  if (progress.table === undefined) {
    if ('dir' in rendezvous) {
      let present: string[] = [];
      try { present = readdirSync(rendezvous.dir); } catch { /* reported as all missing */ }
      const missing = Array.from({ length: size }, (_, r) => r).filter((r) => !present.includes(`rank-${r}.json`));
      return `rendezvous files missing in ${rendezvous.dir} for ${formatRanks(missing)}`;
    }
    if (rank === 0) return `${formatRanks(progress.joins.missing())} not joined yet at ${rendezvous.rootAddress}`;
    return `no address table yet from the root at ${rendezvous.rootAddress}`;
  }
  const missing = progress.peers.flatMap((peer, r) => (peer === undefined && r !== rank ? [r] : []));
  return `no connection yet with ${formatRanks(missing)}`;
}
