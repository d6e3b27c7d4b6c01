// Several files replayed as one capture (`netpulse replay A B C`), as rotated files are: split
// files must give exactly what the whole file gives, and agree with tshark over the same files
// concatenated by `mergecap -a`; where files overlap in time, packets past the reorder
// allowance are late as the README says; a fault in one file reports what was read and says
// which files were not; a file's per-interface state never reaches the next.
// Needs editcap, mergecap and tshark for the oracle checks (skips them and says so without,
// unless NETPULSE_REQUIRE_TOOLS=1, as in CI).

import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import type { Report, SecondSummary } from '../../src/aggregate/summary.js';
import { FileSource } from '../../src/capture/file-source.js';
import { EXIT } from '../../src/errors.js';
import { CLI, ndjson, run, type Msg } from '../helpers/cli.js';
import { REAL, haveCorpus } from '../helpers/corpus.js';
import { pcapngBlock } from '../helpers/pcapng.js';

const corpus = haveCorpus();

function haveTools(): boolean {
  const missing = ['tshark', 'mergecap', 'editcap', 'capinfos'].filter((t) => spawnSync(t, ['--version'], { encoding: 'utf8' }).status !== 0);
  if (missing.length === 0) return true;
  if (process.env.NETPULSE_REQUIRE_TOOLS === '1') throw new Error(`${missing.join(', ')} missing but NETPULSE_REQUIRE_TOOLS=1: apt-get install tshark`);
  process.stderr.write(`skipping the multi-file checks against tshark over mergecap -a (and editcap's splits): ${missing.join(', ')} not installed (apt-get install tshark)\n`);
  return false;
}
const tools = haveTools();

const TMP = mkdtempSync(join(tmpdir(), 'netpulse-multi-'));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));
let dirs = 0;
function tmp(): string {
  const d = join(TMP, String(dirs++));
  mkdirSync(d);
  return d;
}

function tool(cmd: string, args: readonly string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** editcap's split of a real capture into `dir`: the parts, in order. */
function split(name: string, how: readonly string[], type: string): string[] {
  const dir = tmp();
  tool('editcap', ['-F', type, ...how, join(REAL, name), join(dir, 'part')]);
  return readdirSync(dir).sort().map((f) => join(dir, f));
}

interface View {
  packets: number;
  bytes: number;
  seconds: Record<number, string>;
  hosts: Record<string, string>;
}

function replay(files: readonly string[], extra: readonly string[] = [], input?: Buffer): { msgs: Msg[]; report: Report; stderr: string; status: number | null; stdout: string } {
  const r = run(['replay', ...files, '--json', '--hosts', 'all', ...extra], input === undefined ? {} : { input });
  const msgs = ndjson(r.stdout);
  return { msgs, report: msgs.find((m) => m.type === 'report') as unknown as Report, stderr: r.stderr, status: r.status, stdout: r.stdout };
}

function viewOf(msgs: readonly Msg[]): View {
  const report = msgs.find((m) => m.type === 'report') as unknown as Report;
  const seconds: Record<number, string> = {};
  for (const m of msgs) {
    const s = m as unknown as SecondSummary;
    if (m.type === 'summary' && s.packets > 0) seconds[s.ts] = `${s.packets}/${s.bytes}`;
  }
  const hosts: Record<string, string> = {};
  for (const h of report.hosts) hosts[h.addr] = `${h.tx.packets}/${h.tx.bytes} ${h.rx.packets}/${h.rx.bytes}`;
  return { packets: report.packets, bytes: report.bytes, seconds, hosts };
}

/** The oracle: the files concatenated by `mergecap -a`, read by tshark (each frame in its own
 *  second; a host is the outermost IP header's source and destination). Also each frame's
 *  second in file order, for the late count. */
function oracle(files: readonly string[]): View & { order: number[] } {
  const all = join(tmp(), 'all.pcapng');
  tool('mergecap', ['-a', '-w', all, ...files]);
  const out = tool('tshark', ['-r', all, '-T', 'fields', '-E', 'separator=\t', '-e', 'frame.time_epoch', '-e', 'frame.len', '-e', 'frame.protocols', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'ipv6.src', '-e', 'ipv6.dst']);
  const v: View & { order: number[] } = { packets: 0, bytes: 0, seconds: {}, hosts: {}, order: [] };
  const secs = new Map<number, [number, number]>();
  const hosts = new Map<string, [number, number, number, number]>();
  const count = (addr: string, rx: boolean, len: number): void => {
    const h = hosts.get(addr) ?? [0, 0, 0, 0];
    h[rx ? 2 : 0] += 1;
    h[rx ? 3 : 1] += len;
    hosts.set(addr, h);
  };
  for (const line of out.split('\n')) {
    if (line === '') continue;
    const [t = '', lenText = '', protos = '', ips = '', ipd = '', i6s = '', i6d = ''] = line.split('\t');
    const len = Number(lenText);
    const sec = Math.floor(Number(t));
    v.packets++;
    v.bytes += len;
    v.order.push(sec);
    const s = secs.get(sec) ?? [0, 0];
    secs.set(sec, [s[0] + 1, s[1] + len]);
    const layers = protos.split(':');
    const i4 = layers.indexOf('ip');
    const i6 = layers.indexOf('ipv6');
    let src = '';
    let dst = '';
    if (i4 >= 0 && (i6 < 0 || i4 < i6)) [src = '', dst = ''] = [ips.split(',')[0], ipd.split(',')[0]];
    else if (i6 >= 0) [src = '', dst = ''] = [i6s.split(',')[0], i6d.split(',')[0]];
    if (src !== '') {
      count(src, false, len);
      count(dst, true, len);
    }
  }
  for (const [ts, [p, b]] of secs) v.seconds[ts] = `${p}/${b}`;
  for (const [a, [tp, tb, rp, rb]] of hosts) v.hosts[a] = `${tp}/${tb} ${rp}/${rb}`;
  return v;
}

/** NDJSON without `dropped` (editcap does not copy pcapng statistics blocks to its parts). */
function withoutDrops(text: string): string {
  return text.replace(/"dropped":(null|\d+),/g, '');
}

describe.skipIf(!corpus || !tools)('rotated files against the whole file and tshark', () => {
  it.each([
    ['ppp-many_interfaces-1.pcapng', ['-c', '7'], 'pcapng'], // 11 interfaces, 3 link types
    ['ppp-example.pcap', ['-i', '2'], 'pcap'],
    ['tcpdump-tcp-handshake-nano.pcap', ['-c', '1'], 'nsecpcap'],
    ['zeek-gap-data-missing.pcapng', ['-c', '5'], 'pcapng'], // 126 interfaces, ns and us
  ])('%s split by editcap %j: every second and host as the whole, and as tshark', (name, how, type) => {
    const parts = split(name, how, type);
    expect(parts.length).toBeGreaterThan(1);
    const whole = replay([join(REAL, name)]);
    const rotated = replay(parts);
    expect(rotated.status).toBe(0);
    expect(rotated.stderr).toBe('');
    expect(withoutDrops(rotated.stdout)).toBe(withoutDrops(whole.stdout));
    const want = oracle(parts);
    const { order: _, ...w } = want;
    expect(viewOf(rotated.msgs)).toEqual(w);
  });

  it('a mix of pcap, pcapng, snoop, gzip, stdin and a header-only file reads as the whole', () => {
    const [a = '', b = '', c = '', d = '', e = ''] = split('ppp-example.pcap', ['-c', '1000'], 'pcap');
    const dir = tmp();
    const bng = join(dir, 'b.pcapng.gz');
    tool('editcap', ['-F', 'pcapng', b, join(dir, 'b.pcapng')]);
    writeFileSync(bng, gzipSync(readFileSync(join(dir, 'b.pcapng'))));
    const dsnoop = join(dir, 'd.snoop');
    tool('editcap', ['-F', 'snoop', d, dsnoop]);
    const ens = join(dir, 'e.pcap');
    tool('editcap', ['-F', 'nsecpcap', e, ens]);
    const empty = join(dir, 'header-only.pcapng');
    const shb = Buffer.alloc(16);
    shb.writeUInt32LE(0x1a2b3c4d, 0);
    shb.writeUInt16LE(1, 4);
    shb.writeBigInt64LE(-1n, 8);
    const idb = Buffer.alloc(8);
    idb.writeUInt16LE(1, 0);
    writeFileSync(empty, Buffer.concat([pcapngBlock(0x0a0d0d0a, shb), pcapngBlock(1, idb)]));
    const whole = replay([join(REAL, 'ppp-example.pcap')]);
    const mixed = replay([a, bng, empty, '-', dsnoop, ens], [], readFileSync(c));
    expect(mixed.status).toBe(0);
    expect(mixed.stderr).toBe('');
    // (snoop records carry a drop count: 0 here, where pcap says nothing)
    expect(withoutDrops(mixed.stdout) === withoutDrops(whole.stdout)).toBe(true);
    expect(mixed.report.dropped).toBe(0);
  });

  it('files of different link types and formats, in time order, agree with tshark over mergecap -a', () => {
    const files = [
      'ppp-linktype_ipv6.pcap', // IPV6
      'ppp-many_interfaces-1.pcapng', // EN10MB, NULL, RAW(12)
      'ppp-sll.pcap', // LINUX_SLL
      'ppp-linktype_ipv4.pcap', // IPV4
      'tcpdump-ipoib.pcap', // IPOIB, big-endian
      'ppp-sll2.pcap', // LINUX_SLL2
      'ppp-nflogPacket.pcap', // NFLOG
      'zeek-cooper-grill-dvwa.pcapng', // ns pcapng
      'ppp-nanosecs_big_endian.pcap', // big-endian ns pcap
    ].map((f) => join(REAL, f));
    const got = replay(files);
    expect(got.status).toBe(0);
    expect(got.stderr).toBe('');
    expect(got.report.late).toBe(0);
    const { order: _, ...want } = oracle(files);
    expect(viewOf(got.msgs)).toEqual(want);
  });

  it('pcapng sections of both byte orders: as separate files, or joined in one or two files, as tshark over mergecap -a', () => {
    const files = ['pcapngtg-be-test008.pcapng', 'pcapngtg-be-test006.pcapng', 'ppp-many_interfaces-1.pcapng', 'zeek-cooper-grill-dvwa.pcapng'].map((f) => join(REAL, f));
    const dir = tmp();
    const bytes = files.map((f) => readFileSync(f));
    const one = join(dir, 'one.pcapng'); // big-endian, big-endian, little, little
    const be = join(dir, 'be-le.pcapng'); // big-endian then little-endian
    const le = join(dir, 'le.pcapng');
    writeFileSync(one, Buffer.concat(bytes));
    writeFileSync(be, Buffer.concat([bytes[1] ?? Buffer.alloc(0), bytes[2] ?? Buffer.alloc(0)]));
    writeFileSync(le, bytes[3] ?? Buffer.alloc(0));
    const separate = replay(files);
    expect(separate.status).toBe(0);
    expect(separate.stderr).toBe('');
    const { order: _, ...want } = oracle(files);
    expect(viewOf(separate.msgs)).toEqual(want);
    expect(replay([one]).stdout === separate.stdout).toBe(true);
    expect(replay([files[0] ?? '', be, le]).stdout === separate.stdout).toBe(true);
  });

  it('overlapping files and files out of time order: totals and hosts as tshark, the late packets are those past the reorder allowance, and a note says so', () => {
    for (const names of [
      ['ppp-ip4_fragments.pcap', 'ppp-ip-frag.pcap'], // the second starts 62 s before the first
      ['ppp-ip-frag.pcap', 'ppp-ip-frag.pcap'], // the same file twice
      ['zeek-5-pings.pcap', 'zeek-wikipedia.pcap'], // nine years back
    ]) {
      const files = names.map((f) => join(REAL, f));
      const got = replay(files);
      const want = oracle(files);
      const view = viewOf(got.msgs);
      expect({ packets: view.packets, bytes: view.bytes, hosts: view.hosts }).toEqual({ packets: want.packets, bytes: want.bytes, hosts: want.hosts });
      // README: a packet counts in its own second while that second is within the reorder
      // allowance (2 s) of the newest second seen; older ones are late
      let newest = -Infinity;
      let late = 0;
      for (const s of want.order) {
        if (s < newest - 2) late++;
        newest = Math.max(newest, s);
      }
      expect(late).toBeGreaterThan(0);
      expect(got.report.late).toBe(late);
      expect(got.status).toBe(0);
      expect(got.stderr).toBe(
        `netpulse: note: ${late} packets were from seconds more than 2 before the newest second seen (--reorder, in whole seconds) and counted as late in the newest second (time went back in the capture; if files are out of time order, give them in order or merge them with mergecap)\n`,
      );
      // firstTs and lastTs span every file, whatever the order
      const sorted = [...want.order].sort((x, y) => x - y);
      expect(Math.floor(got.report.firstTs ?? NaN)).toBe(sorted[0]);
      expect(Math.floor(got.report.lastTs ?? NaN)).toBe(sorted[sorted.length - 1]);
    }
  });

  it('hundreds of files under a limit of 64 open files: every descriptor is released', () => {
    const parts = split('ppp-example.pcap', ['-c', '15'], 'pcap');
    expect(parts.length).toBeGreaterThan(300);
    for (const [i, p] of parts.entries()) {
      if (i % 3 !== 0) continue;
      writeFileSync(`${p}.gz`, gzipSync(readFileSync(p)));
      rmSync(p);
      parts[i] = `${p}.gz`;
    }
    const args = ['replay', ...parts, '--json', '--hosts', 'all'].map((a) => `'${a}'`).join(' ');
    const r = spawnSync('sh', ['-c', `ulimit -n 64 && exec '${process.execPath}' '${CLI}' ${args}`], { encoding: 'utf8', maxBuffer: 1 << 30 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(replay([join(REAL, 'ppp-example.pcap')]).stdout);
  });
});

/** A little-endian pcapng: a section header, one Ethernet interface with `opts`, and an
 *  IPv4/UDP frame 1.2.3.4 -> 5.6.7.8 per timestamp (in the interface's units), or a simple
 *  packet block (no timestamp) for null. */
function pcapng(opts: Buffer, stamps: readonly (bigint | null)[]): Buffer {
  const shb = Buffer.alloc(16);
  shb.writeUInt32LE(0x1a2b3c4d, 0);
  shb.writeUInt16LE(1, 4);
  shb.writeBigInt64LE(-1n, 8);
  const idb = Buffer.concat([Buffer.from([1, 0, 0, 0, 0, 0, 0, 0]), opts]);
  const frame = Buffer.from('ffffffffffff020000000001080045000020000000004011000001020304050607080000000000080000', 'hex');
  const pad = Buffer.alloc((4 - (frame.length % 4)) % 4);
  const blocks = [pcapngBlock(0x0a0d0d0a, shb), pcapngBlock(1, idb)];
  for (const ts of stamps) {
    if (ts === null) {
      const len = Buffer.alloc(4);
      len.writeUInt32LE(frame.length, 0);
      blocks.push(pcapngBlock(3, Buffer.concat([len, frame, pad])));
      continue;
    }
    const h = Buffer.alloc(20);
    h.writeUInt32LE(0, 0);
    h.writeUInt32LE(Number(ts >> 32n), 4);
    h.writeUInt32LE(Number(ts & 0xffffffffn), 8);
    h.writeUInt32LE(frame.length, 12);
    h.writeUInt32LE(frame.length, 16);
    blocks.push(pcapngBlock(6, Buffer.concat([h, frame, pad])));
  }
  return Buffer.concat(blocks);
}

describe('several files as one capture', () => {
  it("a file's if_tsresol and if_tsoffset stay with it: the next file's interface has its own", () => {
    const dir = tmp();
    // if_tsresol 9 (ns) and if_tsoffset 1000 s, then an interface with neither (us)
    const opts = Buffer.alloc(4 + 4 + 4 + 8 + 4);
    opts.writeUInt16LE(9, 0);
    opts.writeUInt16LE(1, 2);
    opts.writeUInt8(9, 4);
    opts.writeUInt16LE(14, 8);
    opts.writeUInt16LE(8, 10);
    opts.writeBigInt64LE(1000n, 12);
    const a = join(dir, 'a.pcapng');
    const b = join(dir, 'b.pcapng');
    writeFileSync(a, pcapng(opts, [1_700_000_000_123_456_789n, 1_700_000_001_000_000_000n]));
    writeFileSync(b, pcapng(Buffer.alloc(0), [1_700_001_002_000_000n, 1_700_001_003_500_000n]));
    const r = replay([a, b]);
    expect(r.status).toBe(0);
    const secs = r.msgs.filter((m) => m.type === 'summary' && (m as unknown as SecondSummary).packets > 0).map((m) => m.ts);
    expect(secs).toEqual([1700001000, 1700001001, 1700001002, 1700001003]);
    expect([r.report.firstTs, r.report.lastTs, r.report.late]).toEqual([1700001000.123456, 1700001003.5, 0]);
  });

  // Before: the report's header named every pcap "pcap", the format being taken before the
  // file header was read ([pcap] for a nanosecond and a modified pcap).
  it.skipIf(!corpus)('the report names each format read, nanosecond and modified pcap included', () => {
    const dir = tmp();
    const mod = join(dir, 'modified.pcap');
    // the modified (Kuznetsov) pcap: magic a1b2cd34 and 24-byte record headers
    const src = readFileSync(join(REAL, 'ppp-linktype_ipv4.pcap'));
    const recs: Buffer[] = [Buffer.from(src.subarray(0, 24))];
    recs[0]?.writeUInt32LE(0xa1b2cd34, 0);
    for (let p = 24; p < src.length; ) {
      const incl = src.readUInt32LE(p + 8);
      recs.push(src.subarray(p, p + 16), Buffer.alloc(8), src.subarray(p + 16, p + 16 + incl));
      p += 16 + incl;
    }
    writeFileSync(mod, Buffer.concat(recs));
    const nano = join(REAL, 'tcpdump-tcp-handshake-nano.pcap');
    const r = run(['replay', join(REAL, 'zeek-5-pings.pcap'), nano, mod, join(REAL, 'ppp-QinQ_802.1_AD.pcapng')]);
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/ \[pcap, pcap-ns, pcap-modified, pcapng\]$/);
  });

  // Before: a directory among the files was found only when its turn came, after the files
  // before it had been replayed; and no file after "-" was checked before stdin was read.
  it.skipIf(!corpus)('every file is checked before the first is read: a directory or a missing file after others, or after "-", is the error line alone', () => {
    const dir = tmp();
    const pings = join(REAL, 'zeek-5-pings.pcap');
    const wiki = join(REAL, 'zeek-wikipedia.pcap');
    for (const [args, input, code, subject] of [
      [[wiki, dir, pings], undefined, 'ERR_FILE_ACCESS', dir],
      [['-', join(dir, 'missing.pcap')], readFileSync(wiki), 'ERR_FILE_NOT_FOUND', join(dir, 'missing.pcap')],
      [[wiki, '-', dir], readFileSync(pings), 'ERR_FILE_ACCESS', dir],
    ] as const) {
      const j = replay(args, [], input);
      expect(j.status).toBe(EXIT.inputAccess);
      expect(j.report.packets).toBe(0);
      expect(j.stderr).toMatch(new RegExp(`^netpulse: ${subject}: .*\\(nothing was read: every file is checked before the first is read\\) \\[${code}\\]\\n$`));
      // the human report: nothing read, so the error line alone
      const h = run(['replay', ...args], input === undefined ? {} : { input });
      expect(h.stdout).toBe('');
      expect(h.stderr).toBe(j.stderr);
    }
  });

  // Before: the error line named the corrupt file and offset but not that the replay stopped
  // there; the report's header lists every file given, so the files after it seemed read.
  it.skipIf(!corpus || !tools)('a corrupt file in the middle: the report of what mergecap -a keeps too, then one line naming the file, the offset and the files not read', () => {
    const [a = '', b = '', c = '', d = ''] = split('ppp-example.pcap', ['-c', '1000'], 'pcap');
    const bad = join(tmp(), 'corrupt.pcap');
    const bytes = Buffer.from(readFileSync(b));
    let p = 24;
    for (let i = 0; i < 500; i++) p += 16 + bytes.readUInt32LE(p + 8);
    bytes.writeUInt32LE(0x7fffffff, p + 8); // record 501 claims 2 GiB
    writeFileSync(bad, bytes);
    const r = replay([a, bad, c, d]);
    expect(r.status).toBe(EXIT.badInput);
    expect(r.report.packets).toBe(1500);
    // mergecap stops at the same record (and says so), keeping what came before
    const kept = join(tmp(), 'kept.pcapng');
    const m = spawnSync('mergecap', ['-a', '-w', kept, a, bad, c, d], { encoding: 'utf8' });
    expect(m.status).not.toBe(0);
    expect(tool('capinfos', ['-c', '-T', '-r', kept]).trim().split('\t')[1]).toBe('1500');
    expect(r.stderr).toBe(
      `netpulse: ${bad}: offset ${p}: record claims 2147483647 captured bytes, more than the 262144-byte maximum: the file is corrupt from here (or captures were joined with cat: use mergecap) (the replay stopped here; not read after it: ${c}, ${d}) [ERR_PCAP_BAD_RECORD_LENGTH]\n`,
    );
    // the same through stdin and gzip; many files after it are summed up
    const many = [a, '-', c, d, a, b];
    const viaStdin = replay(many, [], gzipSync(bytes));
    expect(viaStdin.report.packets).toBe(1500);
    expect(viaStdin.stderr).toMatch(new RegExp(`^netpulse: <stdin>: offset ${p}: .* \\(the replay stopped here; not read after it: ${c}, ${d} and 2 more\\) \\[ERR_PCAP_BAD_RECORD_LENGTH\\]\\n$`));
    // the human report's header lists every file given, and says which were not read (before:
    // the files after the fault were listed as if read)
    const human = run(['replay', a, bad, c, d]);
    expect(human.stdout.split('\n')[0]).toBe(`netpulse report: file ${a} ${bad} ${c} ${d} (not read after the error: ${c} ${d}) [pcap]`);
    // the last file at fault: nothing follows it, nothing more is said
    const last = replay([a, bad]);
    expect(last.stderr).toMatch(/the file is corrupt from here \(or captures were joined with cat: use mergecap\) \[ERR_PCAP_BAD_RECORD_LENGTH\]\n$/);
  });

  // Before: a simple packet block (no timestamp) at the start of a later file took time 0
  // (1970): firstTs 0, a span of 54 years, the packet counted late and a note blaming the file
  // order; the same sections in one file gave it the last time seen, as documented.
  it('a simple packet block in a later file takes the last time seen in the capture, as in a later section of one file', () => {
    const dir = tmp();
    const a = join(dir, 'a.pcapng');
    const b = join(dir, 'b.pcapng');
    const one = join(dir, 'one.pcapng');
    writeFileSync(a, pcapng(Buffer.alloc(0), [1_700_000_000_500_000n, null]));
    writeFileSync(b, pcapng(Buffer.alloc(0), [null, 1_700_000_001_500_000n]));
    writeFileSync(one, Buffer.concat([readFileSync(a), readFileSync(b)]));
    const files = replay([a, b]);
    const single = replay([one]);
    expect(single.report.firstTs).toBe(1700000000.5);
    expect(files.stderr).toBe('');
    expect(files.stdout).toBe(single.stdout);
    expect([files.report.packets, files.report.firstTs, files.report.late]).toEqual([4, 1700000000.5, 0]);
  });

  it.skipIf(!corpus)("the progress bar's total is every file's size on disk, and all of it is read by the end (gzip counted compressed)", async () => {
    const dir = tmp();
    const pings = join(REAL, 'zeek-5-pings.pcap');
    const gz = join(dir, 'wiki.pcap.gz');
    writeFileSync(gz, gzipSync(readFileSync(join(REAL, 'zeek-wikipedia.pcap'))));
    const files = [join(REAL, 'zeek-cooper-grill-dvwa.pcapng'), gz, pings];
    const size = files.reduce((n, f) => n + statSync(f).size, 0);
    const src = new FileSource({ files, chunkBytes: 4096 });
    let during = 0;
    const end = await src.start(() => {
      const st = src.stats();
      expect(st.bytesTotal).toBe(size);
      during = Math.max(during, st.rawBytesRead);
    });
    expect(end.reason).toBe('eof');
    expect(during).toBeLessThanOrEqual(size);
    expect([src.stats().rawBytesRead, src.stats().bytesTotal]).toEqual([size, size]);
    expect(src.formats).toEqual(['pcapng', 'pcap+gzip', 'pcap']);
  });

  it.skipIf(!corpus)('the same file given twice counts twice; copies under other names too', () => {
    const dir = tmp();
    const pings = join(REAL, 'zeek-5-pings.pcap');
    const copy = join(dir, 'copy.pcap');
    copyFileSync(pings, copy);
    const once = replay([pings]).report;
    const twice = replay([pings, copy]).report;
    expect([twice.packets, twice.bytes]).toEqual([2 * once.packets, 2 * once.bytes]);
  });
});
