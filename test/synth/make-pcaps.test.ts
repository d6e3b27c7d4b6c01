// The project's own captures in pcaps/: scripts/make-pcaps.mjs reproduces them byte for
// byte; tshark reads each without a warning and finds in every frame what
// pcaps/fixtures.json says was built (layers, lengths, times, outermost addresses); the
// .pcap and .pcapng forms of each Ethernet fixture hold the same frames; the demo agrees
// with its truth file.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Truth } from '../../src/synth/truth.js';
import { TALLY_FIELDS, tally, tsharkFields, tsharkSkipReason } from './tshark.js';

const ROOT = resolve(import.meta.dirname, '../..');
const PCAPS = join(ROOT, 'pcaps');
const SCRIPT = join(ROOT, 'scripts/make-pcaps.mjs');
if (!existsSync(join(ROOT, 'dist/synth/generate.js'))) throw new Error('dist/ is missing: run "npm run build" first (npm test does)');

const skip = tsharkSkipReason();
if (skip !== null) console.warn(`skipping fixture tshark tests: ${skip}`);

interface FrameIntent {
  time: string;
  len: number;
  caplen?: number;
  layers: string;
  src: string | null;
  dst: string | null;
  iface?: number;
}
interface Manifest {
  files: Record<string, { description: string; format: string; frames: FrameIntent[] }>;
}
const manifest = JSON.parse(readFileSync(join(PCAPS, 'fixtures.json'), 'utf8')) as Manifest;
const names = Object.keys(manifest.files);

const tmp = mkdtempSync(join(tmpdir(), 'netpulse-make-pcaps-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('scripts/make-pcaps.mjs', () => {
  it('reproduces every file it makes in pcaps/ byte for byte', () => {
    const r = spawnSync(process.execPath, [SCRIPT, tmp], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const made = readdirSync(tmp).sort();
    for (const f of made) expect(existsSync(join(PCAPS, f)) && readFileSync(join(tmp, f)).equals(readFileSync(join(PCAPS, f))), f).toBe(true);
    // Every capture in pcaps/ comes from the script (other files, like the lead's .golden
    // files made from them by tshark, are not the script's).
    const captures = readdirSync(PCAPS).filter((f) => /\.(pcap|pcapng|json|md)$/.test(f));
    expect(captures.sort()).toEqual(made);
  });

  it('lists every capture in pcaps/README.md, one line each, and in fixtures.json', () => {
    const readme = readFileSync(join(PCAPS, 'README.md'), 'utf8');
    const captures = readdirSync(PCAPS).filter((f) => /\.(pcap|pcapng)$/.test(f));
    expect(captures.length).toBeGreaterThan(30);
    for (const c of captures) {
      expect(readme.split('\n').filter((l) => l.startsWith(`- \`${c}\``)), c).toHaveLength(1);
      if (c !== 'demo.pcapng') expect(names, c).toContain(c);
    }
  });

  it('keeps the demo small', () => {
    expect(readFileSync(join(PCAPS, 'demo.pcapng')).length).toBeLessThan(2_000_000);
  });
});

describe.skipIf(skip !== null)('tshark finds in each fixture what it was built to be', () => {
  const FIELDS = ['frame.time_epoch', 'frame.len', 'frame.cap_len', 'frame.protocols', 'frame.interface_id', 'ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst'];
  // Reassembly off: each fragment is judged on its own, as the analyzer counts it.
  const NO_REASSEMBLY = ['-o', 'ip.defragment:FALSE', '-o', 'ipv6.defragment:FALSE'];
  const read = (file: string): string[][] => {
    const r = tsharkFields(join(PCAPS, file), FIELDS, NO_REASSEMBLY);
    expect(r.status).toBe(0);
    expect(r.warnings).toEqual([]);
    return r.rows;
  };

  for (const name of names) {
    it(name, () => {
      const rows = read(name);
      const want = manifest.files[name]?.frames ?? [];
      expect(rows).toHaveLength(want.length);
      rows.forEach(([time = '', len = '', caplen = '', protocols = '', iface = '', s4 = '', d4 = '', s6 = '', d6 = ''], i) => {
        const layers = protocols.split(':');
        const i4 = layers.indexOf('ip');
        const i6 = layers.indexOf('ipv6');
        const outer4 = i4 >= 0 && (i6 < 0 || i4 < i6);
        const w = want[i];
        if (w === undefined) throw new Error('missing intent');
        const got: FrameIntent = {
          time,
          len: Number(len),
          layers: protocols,
          src: outer4 ? s4 : i6 >= 0 ? s6 : null,
          dst: outer4 ? d4 : i6 >= 0 ? d6 : null,
        };
        if (Number(caplen) !== Number(len)) got.caplen = Number(caplen);
        if (w.iface !== undefined) got.iface = Number(iface);
        expect({ frame: i + 1, ...got }).toEqual({ frame: i + 1, ...w });
      });
    });
  }

  it('the .pcap and .pcapng form of each Ethernet fixture hold the same frames', () => {
    const pairs = names.filter((n) => n.endsWith('.pcap') && names.includes(`${n}ng`));
    expect(pairs.length).toBeGreaterThanOrEqual(11);
    // (pcap has no interface id column; everything else must match.)
    const noIface = (rows: string[][]): string[][] => rows.map((r) => r.filter((_, i) => i !== 4));
    for (const p of pairs) expect(noIface(read(`${p}ng`)), p).toEqual(noIface(read(p)));
  });

  it('the demo agrees with its truth file', () => {
    const t = JSON.parse(readFileSync(join(PCAPS, 'demo.truth.json'), 'utf8')) as Truth;
    const r = tsharkFields(join(PCAPS, 'demo.pcapng'), TALLY_FIELDS);
    expect(r.warnings).toEqual([]);
    const seen = tally(r.rows);
    expect([seen.packets, seen.bytes]).toEqual([t.packets, t.bytes]);
    for (const s of t.seconds) expect({ ts: s.ts, ...(seen.seconds.get(s.ts) ?? { packets: 0, bytes: 0 }) }).toEqual(s);
    expect(seen.hosts.size).toBe(t.hosts.length);
    for (const h of t.hosts) expect({ addr: h.addr, ...seen.hosts.get(h.addr) }).toEqual(h);
    expect(t.anomalies.map((a) => a.kind).sort()).toEqual(['burst', 'new-host', 'port-scan', 'sweep', 'syn-flood']);
  });
});
