/**
 * The client a data command uses, and what it says when servers are down. The CLI encodes keys
 * itself in the store's key type (bin/store-keys.ts), so the client is opened on the group with
 * its keys taken as the stored bytes; routing and partitioning are the group's own. A command
 * that cannot reach a server fails with one line naming the down rank(s) and how to restart them.
 */
import { Client } from '../client/client.js';
import { ErrorCodes, HpckvError, isHpckvError } from '../core/errors.js';
import { readGroupFile, type GroupFile } from '../core/group-file.js';
import { need, type Flags } from './cli-args.js';
import { StoreKeys } from './store-keys.js';

export interface CliClient {
  client: Client;
  keys: StoreKeys;
  groupFile: string;
}

/** A client of the group that takes keys as the stored bytes (StoreKeys encodes them); routing is the group's own. */
export function storedKeysClient(group: GroupFile): Promise<Client> {
  return Client.fromGroup({ ...group, keyType: 'bytes' });
}

/** A server could not be reached, or its connection was lost. */
export function isUnreachable(error: unknown): error is HpckvError {
  return isHpckvError(error, ErrorCodes.CONNECT_FAILED) || isHpckvError(error, ErrorCodes.CONNECTION_CLOSED);
}

/** The restart hint for down ranks of a group (their data directory is not in the group file). */
export function rejoinHint(groupFile: string, ranks: readonly number[]): string {
  const which = ranks.length === 1 ? String(ranks[0]) : `R (R = ${ranks.join(', ')})`;
  return `start ${ranks.length === 1 ? 'it' : 'each'} again with: hpckv serve --rejoin ${groupFile} --rank ${which} --data DATA_DIR`;
}

export function rankList(ranks: readonly number[]): string {
  return `server rank${ranks.length === 1 ? '' : 's'} ${ranks.join(', ')} ${ranks.length === 1 ? 'is' : 'are'} down`;
}

/**
 * Opens a client on --group, runs `use` and closes it. When a server cannot be reached, the
 * error names the down ranks: asked of every server (`statEach`), or, with `probe: false` (after
 * a shutdown, when every server is going down), the one the failed call went to.
 */
export async function withClient<T>(flags: Flags, use: (cli: CliClient) => Promise<T>, probe = true): Promise<T> {
  const groupFile = need(flags, 'group');
  const group = await readGroupFile(groupFile);
  const keys = StoreKeys.of(group);
  const client = await storedKeysClient(group);
  try {
    return await use({ client, keys, groupFile });
  } catch (error) {
    if (!isUnreachable(error)) throw error;
    const down = probe
      ? (await client.statEach()).filter((answer) => isUnreachable(answer.error)).map((answer) => answer.rank)
      : group.servers.filter((server) => server.address === error.details['address']).map((server) => server.rank);
    if (down.length === 0) throw error;
    throw new HpckvError(error.code, `${rankList(down)} (${error.message}); ${rejoinHint(groupFile, down)}`,
      { cause: error, retryable: error.retryable, details: { ...error.details, downRanks: down.join(',') } });
  } finally {
    await client.close();
  }
}
