/**
 * Transport addresses: `tcp://HOST:PORT`, `unix:///ABSOLUTE/PATH` and `inproc://NAME`.
 * TCP with port 0 means "any free port" when listening; the listener reports the real one.
 */
export type Address =
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'unix'; path: string }
  | { kind: 'inproc'; name: string };

export function parseAddress(address: string): Address {
  if (typeof address !== 'string') throw new TypeError('address must be a string');
  if (address.startsWith('tcp://')) {
    const rest = address.slice('tcp://'.length);
    const colon = rest.lastIndexOf(':');
    if (colon <= 0) throw new TypeError(`address ${address} needs HOST:PORT`);
    let host = rest.slice(0, colon);
    if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
    const port = Number(rest.slice(colon + 1));
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError(`address ${address} has a bad port`);
    return { kind: 'tcp', host, port };
  }
  if (address.startsWith('unix://')) {
    const path = address.slice('unix://'.length);
    if (!path.startsWith('/')) throw new TypeError(`address ${address} needs an absolute path (unix:///path)`);
    return { kind: 'unix', path };
  }
  if (address.startsWith('inproc://')) {
    const name = address.slice('inproc://'.length);
    if (name.length === 0) throw new TypeError(`address ${address} needs a name`);
    return { kind: 'inproc', name };
  }
  throw new TypeError(`address ${address} must start with tcp://, unix:// or inproc://`);
}

export function formatAddress(address: Address): string {
  switch (address.kind) {
    case 'tcp': return `tcp://${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
    case 'unix': return `unix://${address.path}`;
    case 'inproc': return `inproc://${address.name}`;
  }
}
