import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import type { ReportContext } from '../../functions/report/context.js';
import { buildManifest, HashingCounter, Manifest } from '../../functions/report/manifest.js';
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
