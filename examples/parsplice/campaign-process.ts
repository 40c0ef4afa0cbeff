import { fork, type ChildProcess } from 'node:child_process';
import { Client } from '../../index.js';

/**
 * Worker and splicer processes: each is started with one JSON argument (the group file and its
 * options), opens its own client, does its part and exits 0 (or prints why and exits 1).
 */
export async function runCampaignProcess<O>(main: (client: Client, options: O) => Promise<unknown>): Promise<void> {
  try {
    const { groupFile, ...options } = JSON.parse(process.argv[2] ?? '{}') as { groupFile: string } & O;
    const client = await Client.open(groupFile);
    try {
      await main(client, options as O);
    } finally {
      await client.close();
    }
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exit(1);
  }
}

/** A started campaign process and the end of its stderr (for the error when it fails). */
export interface CampaignChild {
  name: string;
  child: ChildProcess;
  /** Resolves when it exited 0; rejects with its stderr's last lines otherwise. */
  exited: Promise<void>;
}

export function startCampaignProcess(name: string, script: URL, options: object): CampaignChild {
  const child = fork(script, [JSON.stringify(options)], { stdio: ['ignore', 'inherit', 'pipe', 'ipc'] });
  let tail = '';
  child.stderr!.on('data', (chunk: Buffer) => { tail = (tail + chunk.toString()).slice(-4000); });
  const exited = new Promise<void>((resolve, reject) => {
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${name} ended with ${signal ?? `exit code ${code}`}: ${tail.trim()}`));
    });
  });
  return { name, child, exited };
}
