/**
 * The single-key commands: put, get, del, and where (which server rank holds a key, computed from
 * the group file's partition alone). Keys are read in the store's key type (bin/store-keys.ts).
 */
import { readGroupFile } from '../../core/group-file.js';
import { dbOption, need, positionalArgs } from '../cli-args.js';
import { storedKeysClient, withClient } from '../cli-client.js';
import { EXIT, type CliCommand } from '../cli-command.js';
import { KEYS_NOTE } from '../cli-usage.js';
import { StoreKeys } from '../store-keys.js';

export const put: CliCommand = {
  name: 'put',
  summary: 'store a value under a key',
  usage: `hpckv put --group FILE [--db NAME] KEY VALUE\n    Stores VALUE under KEY.\n\n${KEYS_NOTE}`,
  flags: ['group', 'db'],
  async run({ flags, positionals: given }) {
    const [key, value] = positionalArgs('put', given, ['KEY', 'VALUE']);
    await withClient(flags, ({ client, keys }) => client.put(keys.encode(key!), value!, dbOption(flags)));
    return EXIT.ok;
  },
};

export const get: CliCommand = {
  name: 'get',
  summary: 'print the value of a key (exit 1 if it is not stored)',
  usage: `hpckv get --group FILE [--db NAME] KEY\n    Prints the value stored under KEY as it is; exit status 1 when KEY is not stored.\n\n${KEYS_NOTE}`,
  flags: ['group', 'db'],
  async run({ flags, positionals: given }) {
    const [key] = positionalArgs('get', given, ['KEY']);
    const value = await withClient(flags, ({ client, keys }) => client.get(keys.encode(key!), dbOption(flags)));
    if (value === undefined) {
      process.stderr.write(`not found: ${key}\n`);
      return EXIT.failed;
    }
    process.stdout.write(Buffer.concat([value, Buffer.from('\n')]));
    return EXIT.ok;
  },
};

export const del: CliCommand = {
  name: 'del',
  summary: 'delete a key',
  usage: `hpckv del --group FILE [--db NAME] KEY\n    Deletes KEY (nothing happens when it is not stored).\n\n${KEYS_NOTE}`,
  flags: ['group', 'db'],
  async run({ flags, positionals: given }) {
    const [key] = positionalArgs('del', given, ['KEY']);
    await withClient(flags, ({ client, keys }) => client.del(keys.encode(key!), dbOption(flags)));
    return EXIT.ok;
  },
};

export const where: CliCommand = {
  name: 'where',
  summary: 'which server rank holds a key (from the group file; no server is asked)',
  usage: `hpckv where --group FILE KEY\n    Prints the rank of the server that holds KEY, a TAB and its address, computed from the group\n    file's partition: no server is asked, so it works while the group is down.\n\n${KEYS_NOTE}`,
  flags: ['group'],
  async run({ flags, positionals: given }) {
    const [key] = positionalArgs('where', given, ['KEY']);
    const group = await readGroupFile(need(flags, 'group'));
    const bytes = StoreKeys.of(group).encode(key!);
    // Routing is local: a client that never calls opens no connection.
    const client = await storedKeysClient(group);
    const rank = client.serverFor(bytes);
    await client.close();
    process.stdout.write(`${rank}\t${group.servers[rank]!.address}\n`);
    return EXIT.ok;
  },
};
