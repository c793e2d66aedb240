import { lookup as dnsLookup } from 'node:dns';
import { BlockList, isIP, isIPv6, type LookupFunction } from 'node:net';

/**
 * Where a webhook may connect. A team's webhook URL is typed by an admin and receives the whole
 * referral, so it must not be a way into Relay's own network: the cloud's metadata service, the
 * database, another internal service. Each address is checked as the connection is made (the
 * socket's own DNS lookup), so a name that resolves to a public address when checked and to an
 * internal one a moment later (DNS rebinding) is still refused.
 */

export interface WebhookPolicy {
  /** Production: plain http would carry the referral in clear. */
  httpsOnly: boolean;
  /** WEBHOOK_ALLOW_PRIVATE=on: private, shared and loopback addresses are allowed. */
  allowPrivate: boolean;
}

/** Why an address is refused; `private`, `shared` and `loopback` only without WEBHOOK_ALLOW_PRIVATE. */
export type AddressClass =
  'metadata' | 'unspecified' | 'loopback' | 'private' | 'shared' | 'link-local' | 'multicast' | 'reserved';

const ALLOWED_WITH_PRIVATE: ReadonlySet<AddressClass> = new Set(['loopback', 'private', 'shared']);

type Range = [network: string, prefix: number];

/** First match wins, so the cloud metadata addresses are named as such inside their wider ranges. */
const RANGES: [AddressClass, Range[]][] = [
  [
    'metadata',
    [
      ['169.254.169.254', 32], // AWS, Azure, GCP, OpenStack
      ['100.100.100.200', 32], // Alibaba
      ['192.0.0.192', 32], // Oracle
      ['fd00:ec2::254', 128], // AWS over IPv6
    ],
  ],
  [
    'unspecified',
    [
      ['0.0.0.0', 8],
      ['::', 128],
    ],
  ],
  [
    'loopback',
    [
      ['127.0.0.0', 8],
      ['::1', 128],
    ],
  ],
  [
    'private',
    [
      ['10.0.0.0', 8],
      ['172.16.0.0', 12],
      ['192.168.0.0', 16],
      ['fc00::', 7],
    ],
  ],
  ['shared', [['100.64.0.0', 10]]],
  [
    'link-local',
    [
      ['169.254.0.0', 16],
      ['fe80::', 10],
    ],
  ],
  [
    'multicast',
    [
      ['224.0.0.0', 4],
      ['ff00::', 8],
    ],
  ],
  [
    'reserved',
    [
      ['192.0.0.0', 24],
      ['192.0.2.0', 24],
      ['198.18.0.0', 15],
      ['198.51.100.0', 24],
      ['203.0.113.0', 24],
      ['240.0.0.0', 4], // and the broadcast address
      ['100::', 64],
      ['2001:db8::', 32],
      ['fec0::', 10],
    ],
  ],
];

const LISTS: [AddressClass, BlockList][] = RANGES.map(([name, ranges]) => {
  const list = new BlockList();
  for (const [network, prefix] of ranges) list.addSubnet(network, prefix, isIPv6(network) ? 'ipv6' : 'ipv4');
  return [name, list];
});

/**
 * The class of a refused address, or undefined when it may be reached. An IPv4 address carried in
 * IPv6 (mapped `::ffff:a.b.c.d`, compatible `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) is
 * judged as the IPv4 address it reaches.
 */
export function classifyAddress(address: string): AddressClass | undefined {
  const family = isIP(address);
  if (family === 0) return 'reserved';
  const embedded = family === 6 ? embeddedIpv4(address) : undefined;
  const target = embedded ?? address;
  const type = embedded || family === 4 ? 'ipv4' : 'ipv6';
  return LISTS.find(([, list]) => list.check(target, type))?.[0];
}

export function isRefused(address: string, policy: WebhookPolicy): AddressClass | undefined {
  const found = classifyAddress(address);
  return found && !(policy.allowPrivate && ALLOWED_WITH_PRIVATE.has(found)) ? found : undefined;
}

/** The 16 bytes of an IPv6 address (which must be valid), a trailing dotted quad included. */
function ipv6Bytes(address: string): number[] {
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address);
  const text = quad
    ? `${address.slice(0, quad.index)}${((Number(quad[1]) << 8) | Number(quad[2])).toString(16)}:${((Number(quad[3]) << 8) | Number(quad[4])).toString(16)}`
    : address;
  const [head = '', tail] = text.split('::');
  const part = (s: string) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const groups =
    tail === undefined
      ? part(head)
      : [...part(head), ...Array<number>(8 - part(head).length - part(tail).length).fill(0), ...part(tail)];
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

function embeddedIpv4(address: string): string | undefined {
  const b = ipv6Bytes(address.split('%')[0] ?? address);
  const zeros = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  const v4 = (at: number) => b.slice(at, at + 4).join('.');
  if (zeros(0, 10) && b[10] === 0xff && b[11] === 0xff) return v4(12); // mapped
  if (zeros(0, 12) && !zeros(12, 14)) return v4(12); // compatible (not :: or ::1)
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zeros(4, 12)) return v4(12); // NAT64
  if (b[0] === 0x20 && b[1] === 0x02) return v4(2); // 6to4
  return undefined;
}

/** A refused address, as the delivery's last error: the host and the address class, nothing personal. */
export class WebhookAddressRefused extends Error {
  override name = 'WebhookAddressRefused';
  constructor(
    readonly host: string,
    readonly address: string,
    readonly addressClass: AddressClass,
  ) {
    super(
      `refused: ${host === address ? address : `${host} resolves to ${address}`}, a ${addressClass} address (WEBHOOK_ALLOW_PRIVATE)`,
    );
  }
}

/**
 * A socket `lookup` that resolves every address of the name and refuses the connection if any of
 * them is refused, so a name cannot mix a public address with an internal one to get through.
 */
export function guardedLookup(policy: WebhookPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const bad = addresses.find((a) => isRefused(a.address, policy));
      if (bad) {
        const refused = new WebhookAddressRefused(hostname, bad.address, isRefused(bad.address, policy)!);
        return callback(refused as NodeJS.ErrnoException, '', 0);
      }
      const first = addresses[0];
      if (options.all) return callback(null, addresses);
      if (!first)
        return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
      return callback(null, first.address, first.family);
    });
  };
}

export function webhookPolicy(config: {
  env: string;
  delivery: { webhookAllowPrivate: boolean };
}): WebhookPolicy {
  return { httpsOnly: config.env === 'production', allowPrivate: config.delivery.webhookAllowPrivate };
}
