import { ErrorCodes, HpckvError } from '../errors.js';
import type { Endpoint, PeerDeparture } from './endpoint.js';
import { Mailbox } from './mailbox.js';

/** What a communicator sharing an endpoint must hear about. */
export interface RouterMember {
  peerLost(worldRank: number, error: HpckvError, departure: PeerDeparture): void;
  transportClosed(error: HpckvError): void;
}

/**
 * Fans one endpoint out to every communicator that shares it (the world and everything split
 * from it): messages go to the mailbox of their context, peer losses and the final close to
 * every communicator. Mailboxes are made on first use, because a peer that finished a split
 * sooner may already be sending on the child's context before this rank has created the child.
 */
export class ContextRouter {
  readonly endpoint: Endpoint;
  private readonly mailboxes = new Map<string, Mailbox>();
  /** Contexts of closed communicators: late messages for them are dropped, not queued forever. */
  private readonly retired = new Set<string>();
  private readonly members = new Set<RouterMember>();
  private readonly lost = new Map<number, { error: HpckvError; departure: PeerDeparture }>();
  private closing: Promise<void> | undefined;

  constructor(endpoint: Endpoint) {
    this.endpoint = endpoint;
    endpoint.onMessage((source, context, tag, data) => {
      if (this.retired.has(context)) return;
      this.mailbox(context).deliver({ source, tag, data });
    });
    endpoint.onPeerLost((rank, error, departure) => {
      this.lost.set(rank, { error, departure });
      for (const member of this.members) member.peerLost(rank, error, departure);
    });
  }

  /** The mailbox of a context; throws for a retired one (contexts are never reused). */
  mailbox(context: string): Mailbox {
    if (this.retired.has(context)) throw new HpckvError(ErrorCodes.INTERNAL, `context ${context} was already closed`);
    let mailbox = this.mailboxes.get(context);
    if (mailbox === undefined) {
      mailbox = new Mailbox();
      this.mailboxes.set(context, mailbox);
    }
    return mailbox;
  }

  /** Peers lost before `member` joined are reported to it at once. */
  attach(member: RouterMember): void {
    this.members.add(member);
    for (const [rank, { error, departure }] of this.lost) member.peerLost(rank, error, departure);
  }

  detach(member: RouterMember, contexts: readonly string[], error: HpckvError): void {
    this.members.delete(member);
    for (const context of contexts) {
      this.mailboxes.get(context)?.close(error);
      this.mailboxes.delete(context);
      this.retired.add(context);
    }
  }

  /** Closes every communicator on the endpoint, then the endpoint. */
  close(error: HpckvError): Promise<void> {
    if (this.closing === undefined) {
      for (const member of [...this.members]) member.transportClosed(error);
      this.closing = this.endpoint.close();
    }
    return this.closing;
  }
}
