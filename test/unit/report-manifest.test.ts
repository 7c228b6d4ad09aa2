import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import type { ReportContext } from '../../functions/report/context.js';
import {
  buildManifest,
  fileChecksum,
  HashingCounter,
  Manifest,
  ManifestFile,
  manifestFilters,
} from '../../functions/report/manifest.js';
import { SummaryBuilder } from '../../functions/report/summary.js';
import { dayWindow } from '../../functions/time/window.js';

function context(): ReportContext {
  const b = new SummaryBuilder({ timeZone: 'Europe/Madrid' });
  b.add({ _id: 'a', status: 'failed', createdAt: '2024-10-27T10:00:00Z' });
  b.add({ _id: 'b', status: '__proto__', createdAt: '2024-10-27T11:00:00Z' });
  return {
    id: 'daily-2024-10-27',
    window: dayWindow('2024-10-27', 'Europe/Madrid'),
    filters: { statuses: ['failed'], clients: ['c1'] },
    generatedAt: new Date('2024-10-28T05:00:00Z'),
    summary: b.result(),
    diagnostics: { pages: 2, droppedDuplicates: 0 },
  };
}

describe('manifest', () => {
  it('builds a schema-valid manifest with totals, window and files', () => {
    const m = buildManifest(context(), [
      { name: 'report.xlsx', kind: 'xlsx', bytes: 10, sha256: 'a'.repeat(64), rows: 2 },
    ]);
    expect(Manifest.safeParse(JSON.parse(JSON.stringify(m))).success).toBe(true);
    expect(JSON.parse(JSON.stringify(m)).totals.byStatus).toEqual(JSON.parse('{"failed":1,"__proto__":1}'));
    expect(m.window).toEqual({
      start: '2024-10-26T22:00:00.000Z',
      end: '2024-10-27T23:00:00.000Z', // 25-hour day
      timeZone: 'Europe/Madrid',
      from: '2024-10-27',
      to: '2024-10-27',
    });
    expect(m.totals.validations).toBe(2);
    expect(Object.keys(m.totals.byStatus).sort()).toEqual(['__proto__', 'failed']);
    expect(m.filters).toEqual({ statuses: ['failed'], clients: ['c1'] });
  });

  it('refuses a file entry that is out of shape', () => {
    expect(() =>
      buildManifest(context(), [
        { name: 'x.csv', kind: 'details-csv', bytes: -1, sha256: 'nothex', rows: 0 },
      ]),
    ).toThrow(ZodError);
  });
});

describe('HashingCounter', () => {
  it('counts and hashes exactly what flows through, unchanged', async () => {
    const counter = new HashingCounter();
    const sink = new PassThrough();
    const received: Buffer[] = [];
    sink.on('data', (c: Buffer) => received.push(c));
    const input = ['héllo ', 'wörld', Buffer.from([0, 1, 2, 255])];
    const source = new PassThrough();
    const done = pipeline(source, counter, sink);
    for (const chunk of input) source.write(chunk);
    source.end();
    await done;
    const all = Buffer.concat(input.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));
    expect(Buffer.concat(received)).toEqual(all);
    expect(counter.bytes).toBe(all.length);
    expect(counter.sha256()).toBe(createHash('sha256').update(all).digest('hex'));
  });

  it('refuses to give a hash before the stream finished', () => {
    expect(() => new HashingCounter().sha256()).toThrow(/before the stream finished/);
  });
});

describe('manifest: every field and every refusal', () => {
  const file = { name: 'report.xlsx', kind: 'xlsx', bytes: 10, sha256: 'a'.repeat(64), rows: 2 } as const;

  it('records id, generation time, files and diagnostics as given', () => {
    const m = buildManifest(context(), [
      file,
      { ...file, name: 'parts.csv', kind: 'details-csv', partBytes: [5, 5] },
    ]);
    expect(m).toMatchObject({
      id: 'daily-2024-10-27',
      generatedAt: '2024-10-28T05:00:00.000Z',
      files: [file, { ...file, name: 'parts.csv', kind: 'details-csv', partBytes: [5, 5] }],
      diagnostics: { pages: 2, droppedDuplicates: 0 },
    });
  });

  it('records only the filters that restrict something', () => {
    expect(manifestFilters({})).toEqual({});
    expect(manifestFilters({ statuses: [], types: [], clients: [], projects: [] })).toEqual({});
    expect(manifestFilters({ statuses: ['a'], types: ['b'], clients: ['c'], projects: ['d'] })).toEqual({
      statuses: ['a'],
      types: ['b'],
      clients: ['c'],
      projects: ['d'],
    });
  });

  it.each([
    ['an empty name', { name: '' }],
    ['an unknown kind', { kind: 'pdf' }],
    ['fractional bytes', { bytes: 1.5 }],
    ['a hash in capitals', { sha256: 'A'.repeat(64) }],
    ['a hash one digit short', { sha256: 'a'.repeat(63) }],
    ['a hash one digit long', { sha256: 'a'.repeat(65) }],
    ['an empty part', { partBytes: [0] }],
    ['negative rows', { rows: -1 }],
  ])('refuses a file with %s', (_, change) => {
    expect(ManifestFile.safeParse({ ...file, ...change }).success).toBe(false);
    expect(ManifestFile.safeParse(file).success).toBe(true);
  });

  it.each([
    ['an empty id', (m: Record<string, unknown>) => ({ ...m, id: '' })],
    [
      'a start without offset',
      (m: Manifest) => ({ ...m, window: { ...m.window, start: '2024-10-26 22:00' } }),
    ],
    [
      'a day that is not YYYY-MM-DD',
      (m: Manifest) => ({ ...m, window: { ...m.window, from: '2024-10-27x' } }),
    ],
    ['an empty zone', (m: Manifest) => ({ ...m, window: { ...m.window, timeZone: '' } })],
    ['a negative total', (m: Manifest) => ({ ...m, totals: { ...m.totals, validations: -1 } })],
    ['a boolean diagnostic', (m: Manifest) => ({ ...m, diagnostics: { ok: true } })],
  ] as Array<[string, (m: Manifest) => unknown]>)('refuses a manifest with %s', (_, change) => {
    const m = buildManifest(context(), [file]);
    expect(Manifest.safeParse(JSON.parse(JSON.stringify(m))).success).toBe(true);
    expect(Manifest.safeParse(change(JSON.parse(JSON.stringify(m)))).success).toBe(false);
  });
});

describe('fileChecksum', () => {
  const sha = (b: Buffer) => createHash('sha256').update(b).digest();
  const content = Buffer.from('0123456789abcdef');

  it('is the SHA-256 of the bytes for a file written whole', () => {
    expect(fileChecksum(content, {})).toBe(sha(content).toString('hex'));
  });

  it("is S3's composite for an assembled file: the SHA-256 of each part's SHA-256, cut at the part sizes", () => {
    const parts = [content.subarray(0, 6), content.subarray(6, 10), content.subarray(10)];
    const expected = createHash('sha256')
      .update(Buffer.concat(parts.map(sha)))
      .digest('hex');
    expect(fileChecksum(content, { partBytes: [6, 4, 6] })).toBe(expected);
    expect(fileChecksum(content, { partBytes: [6, 4, 6] })).not.toBe(fileChecksum(content, {}));
  });
});
