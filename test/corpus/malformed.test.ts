// Every broken or odd capture in ../shared/pcaps/malformed, and files that are not captures
// at all: the process ends by itself within 10 s with bounded memory, and either reads the
// whole file (exit 0) or prints, after the report of everything read before the fault,
// exactly one line naming the file, the byte offset and the fault, with a stable code and
// the documented exit status 3. Never a stack trace.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, EXIT } from '../../src/errors.js';
import { CLI, ndjson } from '../helpers/cli.js';
import { MALFORMED, haveCorpus, malformedFiles } from '../helpers/corpus.js';

const TIME = '/usr/bin/time';
const haveTime = existsSync(TIME);
if (!haveTime) {
  if (process.env.NETPULSE_REQUIRE_TOOLS === '1') throw new Error(`${TIME} missing but NETPULSE_REQUIRE_TOOLS=1: apt-get install time`);
  process.stderr.write(`malformed suite: ${TIME} not installed (apt-get install time): peak memory not measured\n`);
}

/** Peak RSS bound: a fresh node process is ~55 MB here; a runaway allocation is far above. */
const MAX_RSS_KB = 200 * 1024;

interface Outcome {
  status: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  rssKb: number | null;
}

function replay(path: string, extra: string[] = []): Outcome {
  const t0 = Date.now();
  const argv = [process.execPath, CLI, 'replay', path, '--json', ...extra];
  const r = haveTime
    ? spawnSync(TIME, ['-f', 'RSS_KB=%M', ...argv], { encoding: 'utf8', timeout: 10_000, maxBuffer: 1 << 28 })
    : spawnSync(argv[0] ?? 'node', argv.slice(1), { encoding: 'utf8', timeout: 10_000, maxBuffer: 1 << 28 });
  const ms = Date.now() - t0;
  let stderr = r.stderr ?? '';
  let rssKb: number | null = null;
  const m = /(?:Command exited with non-zero status \d+\n)?RSS_KB=(\d+)\n?$/.exec(stderr);
  if (m) {
    rssKb = Number(m[1]);
    stderr = stderr.slice(0, m.index);
  }
  return { status: r.status, stdout: r.stdout ?? '', stderr, ms, rssKb };
}

function checkOutcome(name: string, o: Outcome): void {
  expect(o.ms, 'ends within 10 s').toBeLessThan(10_000);
  if (o.rssKb !== null) expect(o.rssKb, 'peak RSS').toBeLessThan(MAX_RSS_KB);
  expect(o.stderr).not.toMatch(/^\s+at /m); // no stack trace
  expect([EXIT.ok, EXIT.badInput]).toContain(o.status);
  // the report of everything read comes first, always
  const msgs = ndjson(o.stdout);
  expect(msgs.at(-1)?.type).toBe('report');
  if (o.status === EXIT.ok) {
    // nothing, or the note that packets were counted late (as many as the report says)
    const late = Number(msgs.at(-1)?.late ?? 0);
    expect(o.stderr).toEqual(late === 0 ? '' : expect.stringMatching(new RegExp(`^netpulse: note: ${late} packets? w(as|ere) from seconds more than \\d+ before the newest second seen [^\\n]*\\n$`)));
  } else {
    const lines = o.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    const line = lines[0] ?? '';
    expect(line.startsWith('netpulse: ')).toBe(true);
    expect(line).toContain(name);
    expect(line).toMatch(/: offset \d+: /);
    const code = /\[(ERR_[A-Z_]+)\]$/.exec(line)?.[1] ?? '';
    expect(Object.keys(ERROR_CODES)).toContain(code);
    expect(ERROR_CODES[code as keyof typeof ERROR_CODES]).toBe(EXIT.badInput);
  }
}

// haveCorpus checks real/ and expected/, not malformed/: skip on the corpus's absence only
// (it throws in CI), so a missing or empty malformed/ fails the count below instead of skipping
const corpus = haveCorpus();
const files = corpus ? malformedFiles() : [];

describe.skipIf(!corpus)('malformed captures', () => {
  it('the corpus has the 148 files the suite was written for', () => {
    expect(files.length).toBe(148);
  });

  it.each(files)('%s', (name) => {
    checkOutcome(name, replay(join(MALFORMED, name)));
  });

  it('a corrupt record still yields the report of every packet before it', () => {
    // made-trunc-mid-packet.pcap: tcpreplay-test.pcap (179 frames) cut inside the last one
    const o = replay(join(MALFORMED, 'made-trunc-mid-packet.pcap'));
    expect(o.status).toBe(EXIT.badInput);
    const report = ndjson(o.stdout).find((m) => m.type === 'report');
    expect(report?.packets).toBe(178);
    expect(o.stderr).toContain('[ERR_PCAP_TRUNCATED_RECORD]');
  });
});

describe('files that are not captures', () => {
  const dir = mkdtempSync(join(tmpdir(), 'netpulse-notcap-'));
  const cases: [string, Buffer, string][] = [
    ['empty.pcap', Buffer.alloc(0), 'ERR_EMPTY_INPUT'],
    ['notes.txt', Buffer.from('this is a text file, not a capture\nsecond line\n'), 'ERR_PCAP_BAD_MAGIC'],
    ['short.pcap', Buffer.from([0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0]), 'ERR_PCAP_TRUNCATED_HEADER'],
    ['random.bin', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) & 255)), 'ERR_PCAP_BAD_MAGIC'],
    ['ng-short.pcapng', Buffer.from([0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c]), 'ERR_PCAPNG_TRUNCATED_BLOCK'],
    ['gzip-garbage.pcap.gz', Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8]), 'ERR_DECOMPRESS'],
  ];
  for (const [name, bytes] of cases) writeFileSync(join(dir, name), bytes);

  it.each(cases)('%s', (name, _bytes, code) => {
    const o = replay(join(dir, name));
    checkOutcome(name, o);
    expect(o.status).toBe(EXIT.badInput);
    expect(o.stderr).toContain(`[${code}]`);
  });
});
