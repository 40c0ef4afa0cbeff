import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { tbfParameters, type LinkRate } from './link-rate.js';

const run = promisify(execFile);

/**
 * Two network namespaces of this machine joined by a veth pair whose both ends' egress tbf
 * shapes to the rate: servers in one, the client in the other. Each namespace has only its
 * veth end (a /30 of its own) and its loopback, no route anywhere else, so nothing leaves.
 */
export interface ShapedLink {
  rate: LinkRate;
  serverNamespace: string;
  clientNamespace: string;
  /** The veth end's name, the same in both namespaces. */
  interfaceName: string;
  serverAddress: string;
  clientAddress: string;
  /** Deletes both namespaces (the veth pair goes with them); safe to call twice. */
  remove(): Promise<void>;
}

/** Every namespace the bench makes is `hpckv-bench-<pid>-<token>-srv|cli`: the pid says whether its run is still alive. */
const NAMESPACE_PREFIX = 'hpckv-bench-';
const NAMESPACE_PATTERN = /^hpckv-bench-(\d+)-[0-9a-f]+-(srv|cli)$/;
const INTERFACE = 'hkv0';
const SERVER_ADDRESS = '10.213.0.1';
const CLIENT_ADDRESS = '10.213.0.2';
const PREFIX_LENGTH = 30;

async function ip(args: readonly string[]): Promise<string> {
  return command('ip', args);
}

async function command(file: string, args: readonly string[]): Promise<string> {
  try {
    return (await run(file, [...args], { encoding: 'utf8' })).stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(`${file} ${args.join(' ')}: ${stderr !== undefined && stderr !== '' ? stderr : (error as Error).message}`, { cause: error });
  }
}

/** The names of the bench's namespaces on this machine (`ip netns list` prints `NAME` or `NAME (id: N)`). */
export async function benchNamespaces(): Promise<string[]> {
  const listed = await ip(['netns', 'list']);
  return listed.split('\n').map((line) => line.split(' ')[0]!).filter((name) => name.startsWith(NAMESPACE_PREFIX));
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Deletes the namespaces a crashed (or killed) run left behind: those whose pid is gone. Returns their names. */
export async function removeStaleNamespaces(): Promise<string[]> {
  const stale = (await benchNamespaces()).filter((name) => {
    const match = NAMESPACE_PATTERN.exec(name);
    return match !== null && !processAlive(Number(match[1]));
  });
  for (const name of stale) await ip(['netns', 'del', name]);
  return stale;
}

/**
 * Makes the two namespaces and the shaped veth pair between them. On any failure what was made
 * is deleted again; until remove() the namespaces are also deleted if this process exits or
 * is stopped by SIGINT/SIGTERM.
 */
export async function openShapedLink(rate: LinkRate): Promise<ShapedLink> {
  const token = randomBytes(3).toString('hex');
  const serverNamespace = `${NAMESPACE_PREFIX}${process.pid}-${token}-srv`;
  const clientNamespace = `${NAMESPACE_PREFIX}${process.pid}-${token}-cli`;
  const made: string[] = [];
  const removeNow = (): void => {
    for (const name of made.splice(0)) {
      try { execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' }); } catch { /* already gone */ }
    }
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    removeNow();
    forget();
    process.kill(process.pid, signal); // no handler of ours left: the signal's default, exit
  };
  const forget = (): void => {
    process.off('exit', removeNow);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  process.on('exit', removeNow);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const remove = async (): Promise<void> => {
    forget();
    for (const name of made.splice(0)) await ip(['netns', 'del', name]);
  };
  try {
    for (const name of [serverNamespace, clientNamespace]) {
      await ip(['netns', 'add', name]);
      made.push(name);
    }
    // Both ends are born in their namespaces: the root namespace never holds them.
    await ip(['link', 'add', INTERFACE, 'netns', serverNamespace, 'type', 'veth', 'peer', 'name', INTERFACE, 'netns', clientNamespace]);
    const { burstBytes, latencyMs } = tbfParameters(rate);
    for (const [namespace, address] of [[serverNamespace, SERVER_ADDRESS], [clientNamespace, CLIENT_ADDRESS]] as const) {
      await ip(['-n', namespace, 'addr', 'add', `${address}/${PREFIX_LENGTH}`, 'dev', INTERFACE]);
      await ip(['-n', namespace, 'link', 'set', INTERFACE, 'up']);
      // Server ranks reach each other at the veth address, which the kernel routes over lo.
      await ip(['-n', namespace, 'link', 'set', 'lo', 'up']);
      await command('tc', ['-n', namespace, 'qdisc', 'add', 'dev', INTERFACE, 'root', 'tbf',
        'rate', `${rate.bitsPerSecond}bit`, 'burst', `${burstBytes}b`, 'latency', `${latencyMs}ms`]);
    }
  } catch (error) {
    removeNow();
    forget();
    throw error;
  }
  return { rate, serverNamespace, clientNamespace, interfaceName: INTERFACE, serverAddress: SERVER_ADDRESS, clientAddress: CLIENT_ADDRESS, remove };
}

/** Why the network bench cannot run here (not root, no iproute2, namespaces refused), or undefined when it can: tries a link and removes it. */
export async function networkUnavailableReason(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'the network bench needs root (network namespaces, veth, tc)';
  try {
    await removeStaleNamespaces();
    const link = await openShapedLink({ label: '1gbit', bitsPerSecond: 1e9 });
    await link.remove();
    return undefined;
  } catch (error) {
    const message = (error as Error).message;
    return /ENOENT/.test(message) ? `the network bench needs iproute2 (apt-get install -y iproute2): ${message}` : `network namespaces do not work here: ${message}`;
  }
}
