/**
 * The webhook address policy, against generated addresses (fast-check, fixed seed): every address inside a
 * refused range is refused and every address outside all of them is allowed, judged by an independent
 * implementation (BigInt arithmetic on range bounds, and Node's net.BlockList); the IPv6 spellings a resolver
 * may return (compressed, expanded, upper case, embedded IPv4, zone id) all give the same answer.
 */
import { BlockList } from 'node:net';
import fc from 'fast-check';
import {
  IPV6_GLOBAL_UNICAST,
  REFUSED_IPV4_RANGES,
  REFUSED_IPV6_RANGES,
  refusedAddress,
} from '../../../lambda/shared/webhook-address';

const RUNS = { seed: 20261202, numRuns: 400 };

/** [first, last] of a CIDR as BigInts. */
function bounds(cidr: string, bits: 32 | 128): [bigint, bigint] {
  const [addr, p] = cidr.split('/');
  const prefix = BigInt(Number(p));
  const base = bits === 32 ? v4ToBig(addr!) : v6ToBig(addr!);
  const size = 1n << (BigInt(bits) - prefix);
  const first = (base / size) * size;
  return [first, first + size - 1n];
}
function v4ToBig(a: string): bigint {
  return a.split('.').reduce((n, x) => (n << 8n) | BigInt(Number(x)), 0n);
}
function bigToV4(n: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 255n)).join('.');
}
/** Expands `::`; good enough for the range bases written in the policy. */
function v6ToBig(a: string): bigint {
  const [head, tail] = a.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = a.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return groups.reduce((n, g) => (n << 16n) | BigInt(Number.parseInt(g, 16)), 0n);
}
/** Fully expanded lower-case form. */
function bigToV6(n: bigint): string {
  return Array.from({ length: 8 }, (_, i) => ((n >> BigInt((7 - i) * 16)) & 0xffffn).toString(16)).join(':');
}
/** The canonical compressed form (as the URL parser writes it). */
const compressed = (full: string) => new URL(`http://[${full}]`).hostname.slice(1, -1);

const V4 = REFUSED_IPV4_RANGES.map((r) => ({ ...r, b: bounds(r.cidr, 32) }));
const V6 = REFUSED_IPV6_RANGES.map((r) => ({ ...r, b: bounds(r.cidr, 128) }));
const GLOBAL = bounds(IPV6_GLOBAL_UNICAST, 128);
const inV4 = (n: bigint) => V4.some(({ b }) => n >= b[0] && n <= b[1]);
const allowedV6 = (n: bigint) => n >= GLOBAL[0] && n <= GLOBAL[1] && !V6.some(({ b }) => n >= b[0] && n <= b[1]);

const block = new BlockList();
for (const r of REFUSED_IPV4_RANGES) {
  const [a, p] = r.cidr.split('/');
  block.addSubnet(a!, Number(p), 'ipv4');
}

const bigIn = (lo: bigint, hi: bigint) => fc.bigInt({ min: lo, max: hi });

describe('webhook address policy', () => {
  it('refuses what the issue names: metadata, private, loopback, CGNAT, multicast, mapped and NAT64 forms', () => {
    for (const a of [
      '169.254.169.254',
      '10.0.0.5',
      '127.0.0.1',
      '0.0.0.0',
      '100.64.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '224.0.0.1',
      '255.255.255.255',
      '::1',
      '::',
      'fd00:ec2::254',
      'fe80::1%eth0',
      'ff02::1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '::ffff:8.8.8.8',
      '64:ff9b::7f00:1',
      '64:ff9b::808:808',
      '2002:7f00:1::1',
      '2001:0:4136:e378:8000:63bf:3fff:fdd2',
      '2001:db8::1',
      'not-an-address',
      '',
    ]) {
      expect({ a, refused: typeof refusedAddress(a) }).toEqual({ a, refused: 'string' });
    }
  });

  it('allows ordinary public addresses', () => {
    for (const a of ['8.8.8.8', '1.1.1.1', '52.94.236.248', '2606:4700:4700::1111', '2600:1f18:4a3:6900::1']) {
      expect({ a, why: refusedAddress(a) }).toEqual({ a, why: undefined });
    }
  });

  it.each(V4.map((r) => [r.cidr, r]))('refuses every IPv4 address in %s and names the range', (_cidr, r) => {
    fc.assert(
      fc.property(bigIn(r.b[0], r.b[1]), (n) => {
        const why = refusedAddress(bigToV4(n)) ?? '';
        // The reason names a refused range that holds the address.
        const named = /\(([0-9.]+\/\d+)\)$/.exec(why)?.[1];
        expect(named).toBeDefined();
        const [lo, hi] = bounds(named!, 32);
        expect(n >= lo && n <= hi).toBe(true);
      }),
      { ...RUNS, numRuns: 100 },
    );
    // Just outside the range: allowed unless another range holds it.
    for (const n of [r.b[0] - 1n, r.b[1] + 1n].filter((x) => x >= 0n && x < 1n << 32n)) {
      expect({ a: bigToV4(n), refused: refusedAddress(bigToV4(n)) !== undefined }).toEqual({
        a: bigToV4(n),
        refused: inV4(n),
      });
    }
  });

  it('agrees with an independent model (range bounds) and with net.BlockList on any IPv4 address', () => {
    fc.assert(
      fc.property(bigIn(0n, (1n << 32n) - 1n), (n) => {
        const a = bigToV4(n);
        const refused = refusedAddress(a) !== undefined;
        expect({ a, refused }).toEqual({ a, refused: inV4(n) });
        expect({ a, refused }).toEqual({ a, refused: block.check(a, 'ipv4') });
      }),
      { ...RUNS, numRuns: 3000 },
    );
  });

  it('refuses the IPv4-mapped form of every IPv4 address, public or not, in either spelling', () => {
    fc.assert(
      fc.property(bigIn(0n, (1n << 32n) - 1n), (n) => {
        const v4 = bigToV4(n);
        expect(refusedAddress(`::ffff:${v4}`)).toMatch(/IPv4-mapped/);
        expect(refusedAddress(compressed(bigToV6((0xffffn << 32n) | n)))).toMatch(/IPv4-mapped/);
      }),
      RUNS,
    );
  });

  it.each(V6.map((r) => [r.cidr, r]))('refuses every IPv6 address in %s', (_cidr, r) => {
    fc.assert(
      fc.property(bigIn(r.b[0], r.b[1]), (n) => {
        expect(refusedAddress(bigToV6(n))).toBeDefined();
      }),
      { ...RUNS, numRuns: 100 },
    );
  });

  it('allows exactly global unicast outside the refused ranges, whatever the IPv6 spelling', () => {
    const anywhere = bigIn(0n, (1n << 128n) - 1n);
    const global = bigIn(GLOBAL[0], GLOBAL[1]);
    fc.assert(
      fc.property(
        fc.oneof(anywhere, global, global),
        fc.constantFrom('full', 'compressed', 'upper', 'zone'),
        (n, how) => {
          const full = bigToV6(n);
          const text =
            how === 'full'
              ? full
              : how === 'compressed'
                ? compressed(full)
                : how === 'upper'
                  ? compressed(full).toUpperCase()
                  : `${compressed(full)}%eth0`;
          expect({ text, allowed: refusedAddress(text) === undefined }).toEqual({ text, allowed: allowedV6(n) });
        },
      ),
      { ...RUNS, numRuns: 3000 },
    );
  });

  it('takes time linear in its input (a long non-address is refused at once)', () => {
    const started = performance.now();
    for (let i = 0; i < 100; i++) expect(refusedAddress(`${'1:'.repeat(50_000)}1`)).toBeDefined();
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});
