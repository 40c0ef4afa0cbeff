import { ErrorCodes, HpckvError } from '../errors.js';
import {
  ANY_SOURCE, ANY_TAG, TAG_MAX, type Communicator, type Received, type RecvOptions,
} from './communicator.js';
import { ContextRouter, type RouterMember } from './context-router.js';
import type { Endpoint, PeerDeparture } from './endpoint.js';
import type { Mailbox } from './mailbox.js';

/**
 * The one Communicator implementation: a context id plus the world ranks of the group, over any
 * Endpoint. Collectives are written here once, on point-to-point messages, so every backend
 * gets the same semantics.
 *
 * Each communicator owns two contexts: `context` for user messages and `context + '#'` for
 * collective traffic, so a user receive (even ANY_SOURCE/ANY_TAG) can never take a collective's
 * message. Every collective call uses the next value of a per-communicator counter as its tag;
 * members call collectives in the same order (as MPI requires), so the counters agree and two
 * collectives in flight never mix their messages.
 */

const WORLD_CONTEXT = 'w';
const COLLECTIVE_SUFFIX = '#';

export class GroupCommunicator implements Communicator, RouterMember {
  readonly rank: number;
  readonly size: number;
  private readonly router: ContextRouter;
  private readonly context: string;
  /** World rank of each member, indexed by rank in this communicator. */
  private readonly members: readonly number[];
  private readonly groupRanks: ReadonlyMap<number, number>;
  private readonly ownsEndpoint: boolean;
  private readonly userBox: Mailbox;
  private readonly collectiveBox: Mailbox;
  /** Members gone (closed or failed), by world rank. */
  private readonly lost = new Map<number, HpckvError>();
  /** The first member failure, which dooms every collective of this communicator. */
  private failure: HpckvError | undefined;
  private splitCount = 0;
  private collectiveCount = 0;
  private closedError: HpckvError | undefined;
  private closing: Promise<void> | undefined;

  /** The world communicator of an endpoint; closing it closes the endpoint. */
  static world(endpoint: Endpoint): GroupCommunicator {
    const members = Array.from({ length: endpoint.worldSize }, (_, rank) => rank);
    return new GroupCommunicator(new ContextRouter(endpoint), WORLD_CONTEXT, members, true);
  }

  private constructor(router: ContextRouter, context: string, members: readonly number[], ownsEndpoint: boolean) {
    this.router = router;
    this.context = context;
    this.members = members;
    this.groupRanks = new Map(members.map((world, rank) => [world, rank]));
    const rank = this.groupRanks.get(router.endpoint.worldRank);
    if (rank === undefined) throw new HpckvError(ErrorCodes.INTERNAL, `this process is not a member of communicator ${context}`);
    this.rank = rank;
    this.size = members.length;
    this.ownsEndpoint = ownsEndpoint;
    this.userBox = router.mailbox(context);
    this.collectiveBox = router.mailbox(context + COLLECTIVE_SUFFIX);
    router.attach(this);
  }

  async send(dest: number, tag: number, data: unknown): Promise<void> {
    this.checkRank(dest, 'dest');
    checkTag(tag, false);
    await this.sendTo(dest, this.context, tag, data);
  }

  async recv<T = unknown>(source: number, tag: number, options: RecvOptions = {}): Promise<Received<T>> {
    if (source !== ANY_SOURCE) this.checkRank(source, 'source');
    checkTag(tag, true);
    const worldSource = source === ANY_SOURCE ? ANY_SOURCE : this.members[source]!;
    const what = `recv from ${source === ANY_SOURCE ? 'any rank' : `rank ${source}`}, `
      + `${tag === ANY_TAG ? 'any tag' : `tag ${tag}`}, on communicator ${this.context}`;
    const envelope = await this.userBox.receive(worldSource, tag, {
      ...options,
      what,
      // A gone source sends nothing more; see anySourceRefusal for ANY_SOURCE.
      refuse: () => (source === ANY_SOURCE ? this.anySourceRefusal() : this.lost.get(worldSource)),
    });
    return { source: this.groupRanks.get(envelope.source)!, tag: envelope.tag, data: envelope.data as T };
  }

  /** Dissemination barrier: ceil(log2 size) rounds, in round k each rank signals rank + 2^k. */
  async barrier(): Promise<void> {
    this.checkOpen();
    const tag = this.nextCollectiveTag();
    for (let step = 1; step < this.size; step <<= 1) {
      await Promise.all([
        this.collectiveSend((this.rank + step) % this.size, tag, null),
        this.collectiveRecv((this.rank - step + this.size) % this.size, tag, 'barrier'),
      ]);
    }
  }

  /** Binomial tree rooted at `root` (MPICH's algorithm): log2(size) steps. */
  async bcast<T>(root: number, data?: T): Promise<T> {
    this.checkRank(root, 'root');
    this.checkOpen();
    return this.treeBcast(root, this.nextCollectiveTag(), data) as Promise<T>;
  }

  /**
   * Binomial gather to rank 0 (each subtree holds a contiguous run of ranks, so blocks are just
   * concatenated), then a binomial bcast of the whole list.
   */
  async allgather<T>(data: T): Promise<T[]> {
    this.checkOpen();
    // Both tags are taken now, before any await, so a collective the caller starts meanwhile
    // takes the same counter values on every rank.
    const gatherTag = this.nextCollectiveTag();
    const bcastTag = this.nextCollectiveTag();
    let block: unknown[] = [data];
    for (let mask = 1; mask < this.size; mask <<= 1) {
      if ((this.rank & mask) !== 0) {
        await this.collectiveSend(this.rank - mask, gatherTag, block);
        break;
      }
      if (this.rank + mask < this.size) {
        const part = await this.collectiveRecv(this.rank + mask, gatherTag, 'allgather');
        if (!Array.isArray(part)) throw protocolError('allgather', this.rank + mask);
        block = block.concat(part);
      }
    }
    const all = await this.treeBcast(0, bcastTag, this.rank === 0 ? block : undefined);
    if (!Array.isArray(all) || all.length !== this.size) throw protocolError('allgather', 0);
    return all as T[];
  }

  /**
   * Collective. The child's context is derived from this context, this communicator's split
   * counter and the color, which every member computes alike without further messages.
   */
  async split(color: number, key: number): Promise<Communicator> {
    if (!Number.isSafeInteger(color)) throw new TypeError(`split color must be an integer, got ${String(color)}`);
    if (!Number.isSafeInteger(key)) throw new TypeError(`split key must be an integer, got ${String(key)}`);
    this.checkOpen();
    const serial = this.splitCount++;
    const entries = await this.allgather([color, key]);
    const chosen: Array<{ key: number; rank: number }> = [];
    entries.forEach((entry, rank) => {
      if (!Array.isArray(entry) || typeof entry[0] !== 'number' || typeof entry[1] !== 'number') {
        throw protocolError('split', rank);
      }
      if (entry[0] === color) chosen.push({ key: entry[1], rank });
    });
    chosen.sort((a, b) => (a.key - b.key) || (a.rank - b.rank));
    const members = chosen.map(({ rank }) => this.members[rank]!);
    return new GroupCommunicator(this.router, `${this.context}/${serial}.${color}`, members, false);
  }

  close(): Promise<void> {
    if (this.closing === undefined) {
      const error = new HpckvError(ErrorCodes.COMM, `communicator ${this.context} is closed`);
      this.shut(error);
      this.closing = this.ownsEndpoint ? this.router.close(error) : Promise.resolve();
    }
    return this.closing;
  }

  /**
   * RouterMember: a world rank is gone. Receives that wait on it directly are rejected either
   * way. A failed rank may have left a collective half done, so every pending and later
   * collective is rejected too (a rank waiting on a survivor that waits on the failed rank would
   * otherwise hang); a rank that closed finished its collectives, and the others go on.
   */
  peerLost(worldRank: number, cause: HpckvError, departure: PeerDeparture): void {
    const rank = this.groupRanks.get(worldRank);
    if (rank === undefined || this.lost.has(worldRank)) return;
    const how = departure === 'closed' ? 'closed' : 'is lost';
    const error = new HpckvError(ErrorCodes.COMM, `rank ${rank} of communicator ${this.context} ${how}: ${cause.message}`,
      { cause, details: { rank, worldRank, departure } });
    this.lost.set(worldRank, error);
    if (departure === 'failed') this.failure ??= error;
    const anySourceRefusal = this.anySourceRefusal();
    this.userBox.fail((source) => source === worldRank || (source === ANY_SOURCE && anySourceRefusal !== undefined), error);
    this.collectiveBox.fail((source) => this.failure !== undefined || source === worldRank, error);
  }

  /** RouterMember: the endpoint under every communicator is closing. */
  transportClosed(cause: HpckvError): void {
    this.shut(new HpckvError(ErrorCodes.COMM, `communicator ${this.context} is closed: its endpoint closed`, { cause }));
  }

  private shut(error: HpckvError): void {
    if (this.closedError !== undefined) return;
    this.closedError = error;
    this.router.detach(this, [this.context, this.context + COLLECTIVE_SUFFIX], error);
  }

  private checkOpen(): void {
    if (this.closedError !== undefined) throw this.closedError;
  }

  private async sendTo(dest: number, context: string, tag: number, data: unknown): Promise<void> {
    this.checkOpen();
    const world = this.members[dest]!;
    const lost = this.lost.get(world);
    if (lost !== undefined) throw lost;
    await this.router.endpoint.send(world, context, tag, data);
  }

  private collectiveSend(dest: number, tag: number, data: unknown): Promise<void> {
    return this.sendTo(dest, this.context + COLLECTIVE_SUFFIX, tag, data);
  }

  private async collectiveRecv(source: number, tag: number, what: string): Promise<unknown> {
    const envelope = await this.collectiveBox.receive(this.members[source]!, tag, {
      what: `${what} on communicator ${this.context}`,
      refuse: () => this.failure ?? this.lost.get(this.members[source]!),
    });
    return envelope.data;
  }

  /** Tags of collective traffic: a counter, wrapping inside the tag range. */
  private nextCollectiveTag(): number {
    const tag = this.collectiveCount;
    this.collectiveCount = tag === TAG_MAX ? 0 : tag + 1;
    return tag;
  }

  private async treeBcast(root: number, tag: number, data: unknown): Promise<unknown> {
    const relative = (this.rank - root + this.size) % this.size;
    let value = data;
    let mask = 1;
    for (; mask < this.size; mask <<= 1) {
      if ((relative & mask) !== 0) {
        value = await this.collectiveRecv((relative - mask + root) % this.size, tag, 'bcast');
        break;
      }
    }
    // Children are relative + m for every power of two m below the bit this rank received on.
    const sends: Array<Promise<void>> = [];
    for (mask >>= 1; mask > 0; mask >>= 1) {
      if (relative + mask < this.size) sends.push(this.collectiveSend((relative + mask + root) % this.size, tag, value));
    }
    await Promise.all(sends);
    return value;
  }

  /**
   * ANY_SOURCE is refused once a member failed, as MPI's fault-tolerance extension (ULFM) does,
   * since the message it waits for may be the failed rank's; and once every other member is
   * gone, since nobody is left to send.
   */
  private anySourceRefusal(): HpckvError | undefined {
    if (this.failure !== undefined) return this.failure;
    if (this.size > 1 && this.lost.size === this.size - 1) {
      return [...this.lost.values()].at(-1);
    }
    return undefined;
  }

  private checkRank(rank: number, name: string): void {
    if (!Number.isInteger(rank) || rank < 0 || rank >= this.size) {
      throw new TypeError(`${name} must be a rank in 0..${this.size - 1}, got ${String(rank)}`);
    }
  }
}

function checkTag(tag: number, allowAny: boolean): void {
  if (allowAny && tag === ANY_TAG) return;
  if (!Number.isInteger(tag) || tag < 0 || tag > TAG_MAX) {
    throw new TypeError(`tag must be an integer in 0..${TAG_MAX}${allowAny ? ' or ANY_TAG' : ''}, got ${String(tag)}`);
  }
}

function protocolError(what: string, rank: number): HpckvError {
  return new HpckvError(ErrorCodes.PROTOCOL, `${what}: rank ${rank} sent a malformed collective message`, { details: { rank } });
}
