/**
 * The fan-out's pure parts: the plan (when a report fans out, slice edges on the zone's day starts
 * and DST-true, a day too big cut at instants), the multipart part plan (every part but the last at
 * least 5 MiB, every byte once and in order), and the zip records (Zip64 read back here and by
 * Python's zipfile).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MiB, type Piece, planParts, S3_MIN_PART } from '../../functions/fanout/parts.js';
import { type DayTotal, DEFAULT_PLAN_MODEL, modelSeconds, planSlices } from '../../functions/fanout/plan.js';
import {
  centralDirectory,
  entryBytes,
  localHeader,
  type PlacedEntry,
  readCentralDirectory,
} from '../../functions/fanout/zip.js';
import { addDays, dayWindow, reportWindow } from '../../functions/time/window.js';

const days = (from: string, n: number, total: (i: number) => number): DayTotal[] =>
  Array.from({ length: n }, (_, i) => ({ day: addDays(from, i), total: total(i) }));

describe('planSlices', () => {
  it('keeps a report one Lambda fits on the single path, unchanged', () => {
    const w = reportWindow('2024-12-01', '2024-12-01', 'America/Bogota');
    const plan = planSlices(
      w,
      days('2024-12-01', 1, () => 1_000_000),
    );
    expect(plan.fanOut).toBe(false);
    expect(plan.slices).toEqual([
      {
        index: 0,
        startMs: w.start.getTime(),
        endMs: w.end.getTime(),
        from: w.from,
        to: w.to,
        estimate: 1_000_000,
      },
    ]);
  });

  it('fans the issue’s quarter out (100k a day for 93 days at 200 ms a page) into slices each modelled well inside a Lambda', () => {
    const w = reportWindow('2024-01-01', '2024-04-02', 'America/Bogota');
    const plan = planSlices(
      w,
      days('2024-01-01', 93, () => 100_000),
    );
    expect(plan.total).toBe(9_300_000);
    expect(plan.singleRunSeconds).toBeGreaterThan(
      DEFAULT_PLAN_MODEL.lambdaSeconds * DEFAULT_PLAN_MODEL.safety,
    );
    expect(plan.fanOut).toBe(true);
    expect(plan.parallelSlices * plan.concurrencyPerSlice).toBeLessThanOrEqual(
      DEFAULT_PLAN_MODEL.concurrency,
    );
    for (const s of plan.slices) {
      expect(s.estimate).toBeLessThanOrEqual(DEFAULT_PLAN_MODEL.maxRowsPerSlice);
      expect(modelSeconds(s.estimate, plan.concurrencyPerSlice, DEFAULT_PLAN_MODEL)).toBeLessThanOrEqual(450);
    }
    expect(plan.slices.reduce((n, s) => n + s.estimate, 0)).toBe(9_300_000);
  });

  it('cuts at the zone’s day starts, edge to edge, a DST day 25 hours long inside one slice', () => {
    const tz = 'Europe/Madrid';
    const w = reportWindow('2024-10-20', '2024-11-02', tz);
    const plan = planSlices(
      w,
      days('2024-10-20', 14, () => 1_200_000),
      { maxRowsPerSlice: 2_500_000, concurrency: 32 },
    );
    expect(plan.fanOut).toBe(true);
    expect(plan.slices[0]?.startMs).toBe(w.start.getTime());
    expect(plan.slices.at(-1)?.endMs).toBe(w.end.getTime());
    for (const [i, s] of plan.slices.entries()) {
      if (i > 0) expect(s.startMs).toBe(plan.slices[i - 1]?.endMs);
      expect(s.startMs).toBe(dayWindow(s.from, tz).start.getTime());
      expect(s.endMs).toBe(dayWindow(s.to, tz).end.getTime());
    }
    const dst = plan.slices.find((s) => s.from <= '2024-10-27' && s.to >= '2024-10-27');
    expect(dst).toBeDefined();
    const hours = (dst!.endMs - dst!.startMs) / 3_600_000;
    expect(hours % 24).toBe(1);
  });

  it('cuts a day bigger than a slice into equal instant spans (25 h on the DST day), the last ending at the day’s end', () => {
    const tz = 'Europe/Madrid';
    const w = reportWindow('2024-10-26', '2024-10-28', tz);
    const plan = planSlices(
      w,
      days('2024-10-26', 3, (i) => (i === 1 ? 12_000_000 : 100_000)),
      { concurrency: 32 },
    );
    const cut = plan.slices.filter((s) => s.from === '2024-10-27');
    expect(cut.length).toBeGreaterThan(1);
    const day = dayWindow('2024-10-27', tz);
    expect(cut[0]?.startMs).toBe(day.start.getTime());
    expect(cut.at(-1)?.endMs).toBe(day.end.getTime());
    expect(day.end.getTime() - day.start.getTime()).toBe(25 * 3_600_000);
    expect(cut.reduce((n, s) => n + s.estimate, 0)).toBe(12_000_000);
    const spans = cut.map((s) => s.endMs - s.startMs);
    expect(Math.max(...spans) - Math.min(...spans)).toBeLessThanOrEqual(1);
  });

  it('refuses totals that do not cover the window day by day', () => {
    const w = reportWindow('2024-12-01', '2024-12-03', 'UTC');
    expect(() =>
      planSlices(
        w,
        days('2024-12-01', 2, () => 1),
      ),
    ).toThrow(RangeError);
    expect(() =>
      planSlices(
        w,
        days('2024-12-02', 3, () => 1),
      ),
    ).toThrow(RangeError);
  });
});

describe('planParts', () => {
  const bytes = (n: number, fill = 1): Piece => ({ kind: 'bytes', data: Buffer.alloc(n, fill) });
  const range = (key: string, n: number): Piece => ({ kind: 'range', key, start: 0, end: n });

  /** The bytes a plan stands for, as (key, offset) per byte run: what the assembled object holds. */
  function layout(pieces: readonly Piece[]): string[] {
    return pieces.flatMap((p) =>
      p.kind === 'bytes' ? [`b${p.data.length}`] : [`${p.key}:${p.start}-${p.end}`],
    );
  }
  function flatten(ps: readonly Piece[]): Array<[string, number, number]> {
    // Merge adjacent runs of the same source so that differently cut plans compare equal.
    const out: Array<[string, number, number]> = [];
    let inline = 0;
    for (const p of ps) {
      let run: [string, number, number];
      if (p.kind === 'bytes') {
        run = ['inline', inline, inline + p.data.length];
        inline += p.data.length;
      } else run = [p.key, p.start, p.end];
      const last = out.at(-1);
      if (last && last[0] === run[0] && last[2] === run[1]) last[2] = run[2];
      else out.push(run);
    }
    return out;
  }

  it('copies big ranges, tops a small head up with the next range’s first bytes, and lets only the last part be small', () => {
    const plan = planParts([
      bytes(10),
      range('a', 6 * MiB),
      range('b', MiB),
      range('c', 7 * MiB),
      bytes(100),
    ]);
    expect(plan.map((p) => (p.kind === 'copy' ? `copy ${p.key}` : `upload ${p.bytes}`))).toEqual([
      `upload ${S3_MIN_PART}`,
      `upload ${S3_MIN_PART}`,
      `upload ${4 * MiB + 10 + 100}`,
    ]);
    const big = planParts([range('a', 20 * MiB), range('b', 9 * MiB)]);
    expect(big).toEqual([
      { kind: 'copy', key: 'a', start: 0, end: 20 * MiB },
      { kind: 'copy', key: 'b', start: 0, end: 9 * MiB },
    ]);
    expect(layout([])).toEqual([]);
  });

  it('keeps every byte once, in order, every part but the last within the limits (property)', () => {
    const piece = fc.oneof(
      fc.integer({ min: 0, max: 40 }).map((n) => bytes(n)),
      fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.integer({ min: 0, max: 300 })).map(([k, n]) => range(k, n)),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        // Distinct keys per position so runs of the same object do not merge across pieces.
        const named = pieces.map((p, i) => (p.kind === 'range' ? { ...p, key: `${p.key}${i}` } : p));
        const plan = planParts(named, { minPart: 50, maxPart: 120 });
        plan.forEach((p, i) => {
          const size = p.kind === 'copy' ? p.end - p.start : p.bytes;
          expect(size).toBeGreaterThan(0);
          expect(size).toBeLessThanOrEqual(p.kind === 'copy' ? 120 : Number.POSITIVE_INFINITY);
          if (i < plan.length - 1) expect(size).toBeGreaterThanOrEqual(50);
        });
        const back = plan.flatMap((p): Piece[] =>
          p.kind === 'copy' ? [{ kind: 'range', key: p.key, start: p.start, end: p.end }] : p.segments,
        );
        expect(
          flatten(back.filter((p) => (p.kind === 'bytes' ? p.data.length : p.end - p.start) > 0)),
        ).toEqual(flatten(named.filter((p) => (p.kind === 'bytes' ? p.data.length : p.end - p.start) > 0)));
      }),
    );
  });
});

describe('zip records', () => {
  const at = new Date('2026-11-27T06:00:00Z');
  function archive(forceZip64: boolean): Buffer {
    const parts: Buffer[] = [];
    const placed: PlacedEntry[] = [];
    let offset = 0;
    for (const [name, text] of [
      ['xl/worksheets/sheet1.xml', '<worksheet>ñ</worksheet>'.repeat(50)],
      ['docProps/app.xml', '<Properties/>'],
    ] as const) {
      const raw = Buffer.from(text, 'utf8');
      const data = deflateRawSync(raw);
      const spec = { name, crc32: crc32(raw), compressedSize: data.length, size: raw.length };
      const header = localHeader(spec, at, { forceZip64 });
      placed.push({ ...spec, localHeaderOffset: offset });
      parts.push(header, data);
      offset += header.length + data.length;
    }
    parts.push(centralDirectory(placed, offset, at, { forceZip64 }));
    return Buffer.concat(parts);
  }

  it.each([false, true])('writes a directory it reads back (Zip64 forced: %s)', (force) => {
    const zip = archive(force);
    const entries = readCentralDirectory(zip.subarray(Math.max(0, zip.length - 300)), zip.length);
    expect(entries.map((e) => e.name)).toEqual(['xl/worksheets/sheet1.xml', 'docProps/app.xml']);
    expect(entryBytes(zip, entries[1]!).toString()).toBe('<Properties/>');
    const py = '/usr/bin/python3';
    if (existsSync(py)) {
      const file = join(mkdtempSync(join(tmpdir(), 'zip64-')), 'a.zip');
      writeFileSync(file, zip);
      const out = execFileSync(py, [
        '-c',
        'import sys,zipfile\nz=zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nprint(len(z.read("xl/worksheets/sheet1.xml")))',
        file,
      ]).toString();
      expect(Number(out)).toBe(Buffer.byteLength('<worksheet>ñ</worksheet>'.repeat(50)));
    }
  });
});
