// Normal traffic as interleaved conversations (owned by synth): a fixed number of flow
// slots, each running one conversation's state machine (TCP with handshake, request,
// response segments, ACKs and FIN or RST teardown; DNS-like UDP query/response; bulk UDP;
// ICMP echo; ARP). Each packet comes from a random slot, so conversations overlap in
// time like real ones. State lives in typed arrays: no allocation per packet.

import { KIND, type PacketSpec } from './frames.js';
import type { HostTable } from './hosts.js';
import type { Prng } from './prng.js';

const F = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 } as const;

const FLOW = { tcp: 0, dns: 1, bulk: 2, ping: 3, arp: 4 } as const;

/** Server ports of TCP conversations, most common first (cumulative weights below). */
const TCP_PORTS = [443, 80, 22, 8080, 3389, 445, 25, 993, 5432, 23] as const;
const TCP_PORT_CUM = [0.55, 0.75, 0.82, 0.87, 0.9, 0.93, 0.95, 0.97, 0.985, 1] as const;

const DONE = -1;

export class FlowPool {
  private readonly hosts: HostTable;
  private readonly rng: Prng;
  private readonly slots: number;
  /** Every conversation starts from this host when >= 0 (bursts, new hosts). */
  private readonly fixedClient: number;
  private readonly kind: Int8Array;
  private readonly client: Int32Array;
  private readonly server: Int32Array;
  private readonly vlan: Int16Array;
  private readonly sport: Uint16Array;
  private readonly dport: Uint16Array;
  private readonly state: Int8Array;
  private readonly seqC: Float64Array;
  private readonly seqS: Float64Array;
  /** TCP: response bytes still to send; bulk and ping: packets still to send. */
  private readonly left: Float64Array;
  /** TCP: server segments since the client's last ACK. */
  private readonly unacked: Int8Array;
  private readonly mss: Uint16Array;
  private readonly ident: Uint16Array;
  /** Conversations started so far. */
  flows = 0;

  constructor(hosts: HostTable, rng: Prng, slots: number, fixedClient: number) {
    this.hosts = hosts;
    this.rng = rng;
    this.slots = slots;
    this.fixedClient = fixedClient;
    this.kind = new Int8Array(slots);
    this.client = new Int32Array(slots);
    this.server = new Int32Array(slots);
    this.vlan = new Int16Array(slots);
    this.sport = new Uint16Array(slots);
    this.dport = new Uint16Array(slots);
    this.state = new Int8Array(slots).fill(DONE);
    this.seqC = new Float64Array(slots);
    this.seqS = new Float64Array(slots);
    this.left = new Float64Array(slots);
    this.unacked = new Int8Array(slots);
    this.mss = new Uint16Array(slots);
    this.ident = new Uint16Array(slots);
  }

  /**
   * Run the conversations for `n` packets without writing them, so a capture starts in
   * the middle of traffic rather than with every slot opening a connection at once.
   */
  warmUp(n: number, p: PacketSpec): void {
    for (let i = 0; i < n; i++) this.next(p);
  }

  /** Fill p with the next packet of a random conversation. */
  next(p: PacketSpec): void {
    const k = this.rng.int(this.slots);
    if (this.state[k] === DONE) this.start(k);
    switch (this.kind[k]) {
      case FLOW.tcp:
        this.tcp(k, p);
        break;
      case FLOW.dns:
        this.dns(k, p);
        break;
      case FLOW.bulk:
        this.bulk(k, p);
        break;
      case FLOW.ping:
        this.ping(k, p);
        break;
      default:
        this.arp(k, p);
    }
  }

  private start(k: number): void {
    const rng = this.rng;
    const h = this.hosts;
    this.flows++;
    const c = this.fixedClient >= 0 ? this.fixedClient : h.clients.sample(rng);
    const fam = h.family[c] ?? 4;
    const servers = h.serversOf(fam);
    let s = c;
    if (servers !== null) {
      for (let tries = 0; tries < 4 && s === c; tries++) s = servers.sample(rng);
    }
    // Tiny pools: take any other host of the family.
    if (s === c) s = otherHost(h, c, fam);
    this.client[k] = c;
    this.server[k] = s;
    this.vlan[k] = c < h.pool ? (h.vlan[c] ?? -1) : (h.vlan[s] ?? -1);
    this.sport[k] = 32768 + rng.int(28232);
    this.unacked[k] = 0;
    this.state[k] = 0;
    const r = rng.float();
    let kind: number;
    if (r < 0.56) kind = FLOW.tcp;
    else if (r < 0.8) kind = FLOW.dns;
    else if (r < 0.86) kind = FLOW.bulk;
    else if (r < 0.94) kind = FLOW.ping;
    else kind = fam === 4 ? FLOW.arp : FLOW.ping;
    this.kind[k] = kind;
    if (kind === FLOW.tcp) {
      const q = rng.float();
      let i = 0;
      while (i < TCP_PORT_CUM.length - 1 && q >= (TCP_PORT_CUM[i] ?? 1)) i++;
      this.dport[k] = TCP_PORTS[i] ?? 443;
      this.seqC[k] = rng.u32();
      this.seqS[k] = rng.u32();
      this.mss[k] = fam === 6 ? 1440 : 1460;
      // Response size: mostly one segment, some a few, a few large transfers.
      const z = rng.float();
      this.left[k] = z < 0.6 ? rng.range(60, 1400) : z < 0.93 ? rng.range(1401, 6000) : rng.range(6001, 30000);
    } else if (kind === FLOW.dns) {
      this.dport[k] = 53;
    } else if (kind === FLOW.bulk) {
      this.dport[k] = rng.float() < 0.7 ? 443 : 5004;
      this.left[k] = rng.range(4, 40);
    } else if (kind === FLOW.ping) {
      this.ident[k] = rng.int(65536);
      this.left[k] = 2 * rng.range(1, 4);
      this.seqC[k] = 1;
    }
  }

  private endpoints(p: PacketSpec, k: number, fromClient: boolean): void {
    const c = this.client[k] ?? 0;
    const s = this.server[k] ?? 0;
    const h = this.hosts;
    p.family = h.family[c] ?? 4;
    p.vlan = this.vlan[k] ?? -1;
    p.mss = 0;
    if (fromClient) {
      h.setSource(p, c);
      h.setDestination(p, s);
      p.sport = this.sport[k] ?? 0;
      p.dport = this.dport[k] ?? 0;
    } else {
      h.setSource(p, s);
      h.setDestination(p, c);
      p.sport = this.dport[k] ?? 0;
      p.dport = this.sport[k] ?? 0;
    }
  }

  private tcp(k: number, p: PacketSpec): void {
    const st = this.state[k] ?? 0;
    const sc = this.seqC[k] ?? 0;
    const ss = this.seqS[k] ?? 0;
    p.kind = KIND.tcp;
    p.payload = 0;
    switch (st) {
      case 0: // SYN
        this.endpoints(p, k, true);
        p.flags = F.SYN;
        p.seq = sc;
        p.ack = 0;
        p.win = 64240;
        p.mss = this.mss[k] ?? 1460;
        this.seqC[k] = (sc + 1) % 4294967296;
        this.state[k] = 1;
        return;
      case 1: // SYN-ACK
        this.endpoints(p, k, false);
        p.flags = F.SYN | F.ACK;
        p.seq = ss;
        p.ack = sc;
        p.win = 65160;
        p.mss = this.mss[k] ?? 1460;
        this.seqS[k] = (ss + 1) % 4294967296;
        this.state[k] = 2;
        return;
      case 2: // ACK completing the handshake
        this.endpoints(p, k, true);
        p.flags = F.ACK;
        p.seq = sc;
        p.ack = ss;
        p.win = 502;
        this.state[k] = 3;
        return;
      case 3: {
        // request
        this.endpoints(p, k, true);
        const n = this.rng.range(40, 520);
        p.flags = F.PSH | F.ACK;
        p.seq = sc;
        p.ack = ss;
        p.win = 502;
        p.payload = n;
        this.seqC[k] = (sc + n) % 4294967296;
        this.state[k] = 4;
        return;
      }
      case 4: {
        // response segment
        this.endpoints(p, k, false);
        const mss = this.mss[k] ?? 1460;
        const left = this.left[k] ?? 0;
        const n = left > mss ? mss : left;
        p.flags = n === left ? F.PSH | F.ACK : F.ACK;
        p.seq = ss;
        p.ack = sc;
        p.win = 509;
        p.payload = n;
        this.seqS[k] = (ss + n) % 4294967296;
        this.left[k] = left - n;
        const un = (this.unacked[k] ?? 0) + 1;
        this.unacked[k] = un;
        // The client acknowledges every second segment and the last one.
        if (un >= 2 || left - n === 0) this.state[k] = 5;
        return;
      }
      case 5: // client ACK
        this.endpoints(p, k, true);
        p.flags = F.ACK;
        p.seq = sc;
        p.ack = ss;
        p.win = 501;
        this.unacked[k] = 0;
        this.state[k] = (this.left[k] ?? 0) > 0 ? 4 : this.rng.float() < 0.06 ? 9 : 6;
        return;
      case 6: // client FIN
        this.endpoints(p, k, true);
        p.flags = F.FIN | F.ACK;
        p.seq = sc;
        p.ack = ss;
        p.win = 501;
        this.seqC[k] = (sc + 1) % 4294967296;
        this.state[k] = 7;
        return;
      case 7: // server FIN
        this.endpoints(p, k, false);
        p.flags = F.FIN | F.ACK;
        p.seq = ss;
        p.ack = sc;
        p.win = 509;
        this.seqS[k] = (ss + 1) % 4294967296;
        this.state[k] = 8;
        return;
      case 8: // last ACK
        this.endpoints(p, k, true);
        p.flags = F.ACK;
        p.seq = sc;
        p.ack = ss;
        p.win = 501;
        this.state[k] = DONE;
        return;
      default: // server resets the connection
        this.endpoints(p, k, false);
        p.flags = F.RST | F.ACK;
        p.seq = ss;
        p.ack = sc;
        p.win = 0;
        this.state[k] = DONE;
    }
  }

  private dns(k: number, p: PacketSpec): void {
    p.kind = KIND.udp;
    if (this.state[k] === 0) {
      this.endpoints(p, k, true);
      p.payload = this.rng.range(28, 64);
      this.state[k] = 1;
    } else {
      this.endpoints(p, k, false);
      p.payload = this.rng.range(44, 480);
      this.state[k] = DONE;
    }
  }

  private bulk(k: number, p: PacketSpec): void {
    p.kind = KIND.udp;
    const left = (this.left[k] ?? 1) - 1;
    this.left[k] = left;
    // Mostly large datagrams from the server, a small acknowledgement from the client every third.
    const fromClient = this.state[k] === 0 || left % 3 === 0;
    this.endpoints(p, k, fromClient);
    p.payload = fromClient ? (this.state[k] === 0 ? 1200 : this.rng.range(30, 60)) : this.rng.range(400, 1232);
    this.state[k] = left <= 0 ? DONE : 1;
  }

  private ping(k: number, p: PacketSpec): void {
    const left = (this.left[k] ?? 1) - 1;
    this.left[k] = left;
    const request = left % 2 === 1;
    this.endpoints(p, k, request);
    p.kind = KIND.icmp;
    p.icmpType = p.family === 6 ? (request ? 128 : 129) : request ? 8 : 0;
    p.icmpCode = 0;
    p.icmpId = this.ident[k] ?? 0;
    const seq = this.seqC[k] ?? 1;
    p.icmpSeq = seq;
    p.payload = 56;
    if (!request) this.seqC[k] = seq + 1;
    this.state[k] = left <= 0 ? DONE : 1;
  }

  private arp(k: number, p: PacketSpec): void {
    const request = this.state[k] === 0;
    this.endpoints(p, k, request);
    p.kind = KIND.arp;
    p.icmpType = request ? 1 : 2;
    if (request) p.dstMac = -1;
    // ARP is not IP: it counts in the totals, not per host.
    p.srcHost = -1;
    p.dstHost = -1;
    this.state[k] = request ? 1 : DONE;
  }
}

function otherHost(h: HostTable, c: number, fam: number): number {
  for (let i = 0; i < h.pool; i++) if (i !== c && h.family[i] === fam) return i;
  return c;
}
