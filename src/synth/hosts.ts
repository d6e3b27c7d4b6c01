// The hosts of a synthetic capture (owned by synth): the pool of normal hosts with their
// addresses, VLANs and heavy-tailed activity weights, plus the external hosts that
// anomalies name (scanners, new hosts, flood victims outside the pool).
//
// Pool host i (0-based, 0 = the heaviest talker, weight 1/(i+1)) is IPv6 when the share
// of IPv6 hosts says so (evenly spread over the ranks), IPv4 otherwise:
//   IPv4 10.a.b.c with a.b = floor(i / 254), c = i % 254 + 1    (up to 16,646,144 hosts)
//   IPv6 fd6e:7075:6c73:1::/64 with the low 32 bits = i + 1

import { AnalyzerError } from '../errors.js';
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from './addr.js';
import type { PacketSpec } from './frames.js';
import { mix32, type Prng } from './prng.js';

export const MAX_POOL_HOSTS = 254 * 65536;
export const V6_PREFIX = [0xfd6e7075, 0x6c730001] as const;
/** MAC id of the router that every external host is reached through. */
const ROUTER_MAC = 0;

export interface ExternalHost {
  readonly family: 4 | 6;
  readonly v4: number;
  readonly v6: readonly [number, number, number, number];
  /** True for hosts on the local segment (new hosts): they get their own MAC. */
  readonly local: boolean;
}

/** Walker/Vose alias table: O(1) weighted sampling of indices. */
export class AliasTable {
  readonly n: number;
  private readonly prob: Float64Array;
  private readonly alias: Int32Array;
  /** Optional mapping from table index to host id. */
  private readonly ids: Int32Array | null;

  constructor(weights: Float64Array, ids: Int32Array | null) {
    const n = weights.length;
    this.n = n;
    this.ids = ids;
    this.prob = new Float64Array(n);
    this.alias = new Int32Array(n);
    let total = 0;
    for (let i = 0; i < n; i++) total += weights[i] ?? 0;
    const scaled = new Float64Array(n);
    const small = new Int32Array(n);
    const large = new Int32Array(n);
    let ns = 0;
    let nl = 0;
    for (let i = 0; i < n; i++) {
      const s = ((weights[i] ?? 0) * n) / total;
      scaled[i] = s;
      if (s < 1) small[ns++] = i;
      else large[nl++] = i;
    }
    while (ns > 0 && nl > 0) {
      const s = small[--ns] ?? 0;
      const l = large[nl - 1] ?? 0;
      this.prob[s] = scaled[s] ?? 0;
      this.alias[s] = l;
      const rest = (scaled[l] ?? 0) + (scaled[s] ?? 0) - 1;
      scaled[l] = rest;
      if (rest < 1) {
        nl--;
        small[ns++] = l;
      }
    }
    while (nl > 0) this.prob[large[--nl] ?? 0] = 1;
    while (ns > 0) this.prob[small[--ns] ?? 0] = 1;
  }

  /** One weighted draw (one random number: its integer part picks, its fraction decides). */
  sample(rng: Prng): number {
    const u = rng.float() * this.n;
    const i = Math.floor(u);
    const j = u - i < (this.prob[i] ?? 1) ? i : (this.alias[i] ?? i);
    return this.ids === null ? j : (this.ids[j] ?? j);
  }
}

export class HostTable {
  /** Number of pool hosts. */
  readonly pool: number;
  /** All host ids: the pool, then the externals. */
  readonly count: number;
  readonly family: Uint8Array;
  readonly v4: Uint32Array;
  /** Four words per external host (pool IPv6 addresses are computed from the number). */
  private readonly extV6: Uint32Array;
  readonly vlan: Int16Array;
  readonly mac: Int32Array;
  readonly ttl: Uint8Array;
  /** Activity weight of pool hosts (1/(i+1)) and their sum. */
  readonly weightSum: number;
  readonly weightSum4: number;
  readonly weightSum6: number;
  readonly pool4: number;
  readonly pool6: number;
  /** Client choice (any pool host) and server choice (pool hosts of one family). */
  readonly clients: AliasTable;
  readonly servers4: AliasTable | null;
  readonly servers6: AliasTable | null;

  constructor(pool: number, ipv6Share: number, vlanShare: number, seed: number, externals: readonly ExternalHost[]) {
    this.pool = pool;
    this.count = pool + externals.length;
    const n = this.count;
    this.family = new Uint8Array(n);
    this.v4 = new Uint32Array(n);
    this.extV6 = new Uint32Array(4 * externals.length);
    this.vlan = new Int16Array(n).fill(-1);
    this.mac = new Int32Array(n);
    this.ttl = new Uint8Array(n);

    const fam = poolFamilies(pool, ipv6Share);
    const weights = new Float64Array(pool);
    let w4 = 0;
    let w6 = 0;
    let n4 = 0;
    let n6 = 0;
    for (let i = 0; i < pool; i++) {
      const w = 1 / (i + 1);
      weights[i] = w;
      const f = fam[i] === 6 ? 6 : 4;
      this.family[i] = f;
      if (f === 6) {
        w6 += w;
        n6++;
      } else {
        w4 += w;
        n4++;
        this.v4[i] = poolV4(i);
      }
      const h = mix32(i ^ mix32(seed ^ 0x766c616e));
      if (h / 4294967296 < vlanShare) this.vlan[i] = 10 * (1 + (h & 7));
      this.mac[i] = i + 1;
      this.ttl[i] = 64;
    }
    this.weightSum = w4 + w6;
    this.weightSum4 = w4;
    this.weightSum6 = w6;
    this.pool4 = n4;
    this.pool6 = n6;
    this.clients = new AliasTable(weights, null);
    this.servers4 = n4 > 0 ? familyTable(weights, fam, 4, n4) : null;
    this.servers6 = n6 > 0 ? familyTable(weights, fam, 6, n6) : null;

    externals.forEach((e, k) => {
      const id = pool + k;
      this.family[id] = e.family;
      this.v4[id] = e.v4;
      for (let w = 0; w < 4; w++) this.extV6[4 * k + w] = e.v6[w] ?? 0;
      this.mac[id] = e.local ? 0x40000000 + k : ROUTER_MAC;
      this.ttl[id] = e.local ? 64 : 52;
    });
  }

  /** Weight of pool host i. */
  weight(i: number): number {
    return 1 / (i + 1);
  }

  /** Expected share of background packets that have pool host i as source or destination. */
  packetShare(i: number): number {
    // As client with probability w/W; as server of a same-family client with about
    // w/W_family, given a client of that family (probability W_family/W).
    return (2 * this.weight(i)) / this.weightSum;
  }

  serversOf(family: number): AliasTable | null {
    return family === 6 ? this.servers6 : this.servers4;
  }

  /** Word w (0..3) of host id's IPv6 address. */
  v6Word(id: number, w: number): number {
    if (id >= this.pool) return this.extV6[4 * (id - this.pool) + w] ?? 0;
    return w === 0 ? V6_PREFIX[0] : w === 1 ? V6_PREFIX[1] : w === 2 ? 0 : id + 1;
  }

  /** Address text of host id. */
  text(id: number): string {
    if (this.family[id] === 6) return formatIPv6(this.v6Word(id, 0), this.v6Word(id, 1), this.v6Word(id, 2), this.v6Word(id, 3));
    return formatIPv4(this.v4[id] ?? 0);
  }

  /** Make `id` the source (from) or destination of p: addresses, MAC and TTL. */
  setSource(p: PacketSpec, id: number): void {
    p.srcHost = id;
    p.srcMac = this.mac[id] ?? 0;
    p.ttl = this.ttl[id] ?? 64;
    if (this.family[id] === 6) this.copyV6(p.src6, id);
    else p.src4 = this.v4[id] ?? 0;
  }

  setDestination(p: PacketSpec, id: number): void {
    p.dstHost = id;
    p.dstMac = this.mac[id] ?? 0;
    if (this.family[id] === 6) this.copyV6(p.dst6, id);
    else p.dst4 = this.v4[id] ?? 0;
  }

  private copyV6(to: Uint32Array, id: number): void {
    if (id < this.pool) {
      to[0] = V6_PREFIX[0];
      to[1] = V6_PREFIX[1];
      to[2] = 0;
      to[3] = id + 1;
      return;
    }
    const b = 4 * (id - this.pool);
    const v = this.extV6;
    to[0] = v[b] ?? 0;
    to[1] = v[b + 1] ?? 0;
    to[2] = v[b + 2] ?? 0;
    to[3] = v[b + 3] ?? 0;
  }
}

/**
 * How many pool hosts are IPv6: floor(pool * share), except that a family needs two hosts
 * to talk to each other, so a family of one is not used at all.
 */
export function ipv6HostCount(pool: number, share: number): number {
  const n6 = Math.floor(pool * share);
  if (n6 < 2) return 0;
  if (pool - n6 < 2) return pool;
  return n6;
}

/** Family of pool host i: the IPv6 hosts are spread evenly over the ranks. */
export function poolFamilyOf(i: number, pool: number, share: number): 4 | 6 {
  const n6 = ipv6HostCount(pool, share);
  return Math.floor(((i + 1) * n6) / pool) > Math.floor((i * n6) / pool) ? 6 : 4;
}

function poolFamilies(pool: number, share: number): Uint8Array {
  const fam = new Uint8Array(pool);
  for (let i = 0; i < pool; i++) fam[i] = poolFamilyOf(i, pool, share);
  return fam;
}

function familyTable(weights: Float64Array, fam: Uint8Array, f: number, count: number): AliasTable {
  const w = new Float64Array(count);
  const ids = new Int32Array(count);
  let k = 0;
  for (let i = 0; i < fam.length; i++) {
    if (fam[i] !== f) continue;
    w[k] = weights[i] ?? 0;
    ids[k] = i;
    k++;
  }
  return new AliasTable(w, ids);
}

export function poolV4(i: number): number {
  const q = Math.floor(i / 254);
  return (0x0a000000 + q * 256 + (i - q * 254) + 1) >>> 0;
}

export type HostRef =
  | { readonly kind: 'pool'; readonly index: number; readonly family: 4 | 6 }
  | { readonly kind: 'external'; readonly host: ExternalHost };

/**
 * Resolve a host argument: a pool index ("0" is the heaviest talker) or an address. Pool
 * addresses resolve to their index; other addresses are external hosts.
 */
export function resolveHost(text: string, pool: number, share: number, what: string): HostRef {
  if (/^\d+$/.test(text)) {
    const i = Number(text);
    if (!Number.isSafeInteger(i) || i >= pool) {
      throw new AnalyzerError('ERR_BAD_OPTION', `${what}: host ${text} is out of range: host numbers go from 0 to ${pool - 1} (--hosts ${pool}), or give an IP address`);
    }
    return { kind: 'pool', index: i, family: poolFamilyOf(i, pool, share) };
  }
  const a4 = parseIPv4(text);
  if (a4 !== null) {
    if (a4 >>> 24 === 10) {
      const q = (a4 >>> 8) & 0xffff;
      const c = a4 & 0xff;
      const i = q * 254 + c - 1;
      if (c >= 1 && c <= 254 && i < pool && poolFamilyOf(i, pool, share) === 4) return { kind: 'pool', index: i, family: 4 };
    }
    return { kind: 'external', host: { family: 4, v4: a4, v6: [0, 0, 0, 0], local: false } };
  }
  const a6 = parseIPv6(text);
  if (a6 !== null) {
    if (a6[0] === V6_PREFIX[0] && a6[1] === V6_PREFIX[1] && a6[2] === 0) {
      const i = a6[3] - 1;
      if (i >= 0 && i < pool && poolFamilyOf(i, pool, share) === 6) return { kind: 'pool', index: i, family: 6 };
    }
    return { kind: 'external', host: { family: 6, v4: 0, v6: a6, local: false } };
  }
  throw new AnalyzerError('ERR_BAD_OPTION', `${what}: "${text}" is neither a host number nor an IPv4/IPv6 address`);
}
