/**
 * Which IP addresses a webhook delivery may connect to: written once, used by the delivery (after DNS
 * resolution) and by `npm run webhook:set` (before a URL is stored).
 *
 * IPv4: everything but the special-purpose ranges below. IPv6: only global unicast (2000::/3), minus the
 * special-purpose ranges inside it; so loopback, link-local, unique-local, multicast, IPv4-mapped (::ffff:0:0/96),
 * IPv4-compatible, NAT64 (64:ff9b::/96, 64:ff9b:1::/48) and discard-only addresses are refused, and so are the
 * IPv6 forms that embed an IPv4 address a gateway would reach (6to4 2002::/16, Teredo 2001::/32).
 * Source: the IANA special-purpose address registries (RFC 6890),
 * https://www.iana.org/assignments/iana-ipv4-special-registry and
 * https://www.iana.org/assignments/iana-ipv6-special-registry; AWS's instance metadata service listens on
 * 169.254.169.254 and fd00:ec2::254 (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-retrieval.html).
 */
import { isIPv4, isIPv6 } from 'node:net';

/** A range of addresses and why deliveries may not go there. */
export interface AddressRange {
  /** `address/prefix`. */
  readonly cidr: string;
  readonly name: string;
}

/** IPv4 ranges a webhook may not reach. */
export const REFUSED_IPV4_RANGES: readonly AddressRange[] = [
  { cidr: '0.0.0.0/8', name: '"this network"' },
  { cidr: '10.0.0.0/8', name: 'private' },
  { cidr: '100.64.0.0/10', name: 'shared address space (carrier-grade NAT)' },
  { cidr: '127.0.0.0/8', name: 'loopback' },
  { cidr: '169.254.0.0/16', name: 'link-local (instance metadata)' },
  { cidr: '172.16.0.0/12', name: 'private' },
  { cidr: '192.0.0.0/24', name: 'IETF protocol assignments' },
  { cidr: '192.0.2.0/24', name: 'documentation (TEST-NET-1)' },
  { cidr: '192.88.99.0/24', name: '6to4 relay anycast' },
  { cidr: '192.168.0.0/16', name: 'private' },
  { cidr: '198.18.0.0/15', name: 'benchmarking' },
  { cidr: '198.51.100.0/24', name: 'documentation (TEST-NET-2)' },
  { cidr: '203.0.113.0/24', name: 'documentation (TEST-NET-3)' },
  { cidr: '224.0.0.0/4', name: 'multicast' },
  { cidr: '240.0.0.0/4', name: 'reserved (and broadcast)' },
];

/** The only IPv6 range a webhook may reach (global unicast), minus {@link REFUSED_IPV6_RANGES}. */
export const IPV6_GLOBAL_UNICAST = '2000::/3';

/** IPv6 ranges a webhook may not reach (those outside 2000::/3 are listed to name the reason). */
export const REFUSED_IPV6_RANGES: readonly AddressRange[] = [
  { cidr: '::/128', name: 'unspecified' },
  { cidr: '::1/128', name: 'loopback' },
  { cidr: '::ffff:0:0/96', name: 'IPv4-mapped' },
  { cidr: '::/96', name: 'IPv4-compatible (deprecated)' },
  { cidr: '64:ff9b::/96', name: 'NAT64' },
  { cidr: '64:ff9b:1::/48', name: 'local-use NAT64' },
  { cidr: '100::/64', name: 'discard-only' },
  { cidr: '2001::/23', name: 'IETF protocol assignments (Teredo, benchmarking, ORCHID)' },
  { cidr: '2001:db8::/32', name: 'documentation' },
  { cidr: '2002::/16', name: '6to4 (embeds an IPv4 address)' },
  { cidr: '3fff::/20', name: 'documentation' },
  { cidr: 'fc00::/7', name: 'unique local (private)' },
  { cidr: 'fe80::/10', name: 'link-local' },
  { cidr: 'fec0::/10', name: 'site-local (deprecated)' },
  { cidr: 'ff00::/8', name: 'multicast' },
];

/** The bytes of an IPv4 address in dotted-quad form, or undefined. */
function ipv4Bytes(text: string): Uint8Array | undefined {
  if (!isIPv4(text)) return undefined;
  return Uint8Array.from(text.split('.').map(Number));
}

/** The 16 bytes of an IPv6 address (zone id ignored; an embedded dotted IPv4 tail allowed), or undefined. */
function ipv6Bytes(text: string): Uint8Array | undefined {
  const zone = text.indexOf('%');
  let s = zone >= 0 ? text.slice(0, zone) : text;
  if (!isIPv6(s)) return undefined;
  let v4: Uint8Array | undefined;
  if (s.includes('.')) {
    const last = s.lastIndexOf(':');
    v4 = ipv4Bytes(s.slice(last + 1));
    if (!v4) return undefined;
    s = `${s.slice(0, last + 1)}0:0`;
    // `::1.2.3.4` became `::0:0`; `::ffff:1.2.3.4` became `::ffff:0:0`.
  }
  const halves = s.split('::');
  const groups = (h: string | undefined) => (h ? h.split(':') : []);
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const all = [...head, ...Array<string>(fill).fill('0'), ...tail];
  if (all.length !== 8) return undefined;
  const bytes = new Uint8Array(16);
  all.forEach((g, i) => {
    const n = Number.parseInt(g, 16);
    bytes[i * 2] = n >> 8;
    bytes[i * 2 + 1] = n & 0xff;
  });
  if (v4) bytes.set(v4, 12);
  return bytes;
}

interface ParsedRange {
  readonly bytes: Uint8Array;
  readonly prefix: number;
  readonly name: string;
  readonly cidr: string;
}

function parseRange(r: AddressRange, family: 4 | 6): ParsedRange {
  const [addr, prefix] = r.cidr.split('/');
  const bytes = family === 4 ? ipv4Bytes(addr ?? '') : ipv6Bytes(addr ?? '');
  if (!bytes) throw new Error(`Bad range ${r.cidr}`);
  return { bytes, prefix: Number(prefix), name: r.name, cidr: r.cidr };
}

/** True when the first `prefix` bits of `a` and `b` are equal. */
function samePrefix(a: Uint8Array, b: Uint8Array, prefix: number): boolean {
  const whole = prefix >> 3;
  for (let i = 0; i < whole; i++) if (a[i] !== b[i]) return false;
  const rest = prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((a[whole] ?? 0) & mask) === ((b[whole] ?? 0) & mask);
}

const V4 = REFUSED_IPV4_RANGES.map((r) => parseRange(r, 4));
const V6 = REFUSED_IPV6_RANGES.map((r) => parseRange(r, 6));
const GLOBAL = parseRange({ cidr: IPV6_GLOBAL_UNICAST, name: 'global unicast' }, 6);

/**
 * Why a webhook may not connect to `address` (`"169.254.169.254 is link-local (instance metadata, 169.254.0.0/16)"`),
 * or `undefined` when it may. Anything that is not an IP address is refused.
 */
export function refusedAddress(address: string): string | undefined {
  const v4 = ipv4Bytes(address);
  if (v4) {
    const hit = V4.find((r) => samePrefix(v4, r.bytes, r.prefix));
    return hit ? `${address} is ${hit.name} (${hit.cidr})` : undefined;
  }
  const v6 = ipv6Bytes(address);
  if (!v6) return `${JSON.stringify(address.slice(0, 64))} is not an IP address`;
  const hit = V6.find((r) => samePrefix(v6, r.bytes, r.prefix));
  if (hit) return `${address} is ${hit.name} (${hit.cidr})`;
  if (!samePrefix(v6, GLOBAL.bytes, GLOBAL.prefix)) return `${address} is not global unicast (outside ${GLOBAL.cidr})`;
  return undefined;
}
