/** The CSV outputs parsed back with csv-parse. */
import { PassThrough, Writable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { createDataset } from '../../dev/fake-verifik/generator.js';
import { DETAIL_KEYS, flatten } from '../../functions/report/columns.js';
import type { ReportContext } from '../../functions/report/context.js';
import {
  createDetailsCsvWriter,
  csvLine,
  neutralise,
  summaryCsvDocument,
} from '../../functions/report/csv.js';
import { RenderStalledError, WriterStateError } from '../../functions/report/errors.js';
import { IsoFormatter } from '../../functions/report/iso-format.js';
import { compareSummaries, SummaryBuilder } from '../../functions/report/summary.js';
import { dayWindow } from '../../functions/time/window.js';
import { ZoneClock } from '../../functions/time/zone.js';
import type { BiometricValidation } from '../../functions/verifik/schema.js';

const TZ = 'America/Bogota';
const WINDOW = dayWindow('2024-12-01', TZ);

const TRICKY: BiometricValidation = {
  _id: 'trick',
  status: 'failed',
  createdAt: '2024-12-01T05:00:00.000Z',
  completedAt: '2024-12-01T05:01:30.250Z',
  identifier: '=HYPERLINK("http://evil","click")',
  ipAddress: '+57 300 1234567',
  client: { _id: 'c1', name: 'Señora Müller, "Söhne"\nSegunda línea' },
  type: '@import',
  riskScore: -0.25,
  requires2FA: false,
  livenessSession: '\tsession',
  biometricData: { quality: '\rbad', livenessScore: 0.5 },
  verificationResults: { antiSpoofing: '-1+1', identityMatch: 'passed' },
};

async function renderCsv(
  records: BiometricValidation[],
): Promise<{ text: string; raw: Buffer; rows: number }> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const w = createDetailsCsvWriter(out, { timeZone: TZ });
  for (const r of records) {
    const wait = w.write(flatten(r));
    if (wait) await wait;
  }
  const { rows } = await w.finish();
  const raw = Buffer.concat(chunks);
  return { raw, text: raw.toString('utf8'), rows };
}

describe('details CSV', () => {
  it('starts with a UTF-8 BOM and the canonical header, CRLF line ends', async () => {
    const { raw, text } = await renderCsv([TRICKY]);
    expect([...raw.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(text.slice(1).split('\r\n')[0]).toBe(
      'id,createdAt,updatedAt,completedAt,expiresAt,status,type,identifier,clientId,clientName,projectId,projectName,livenessSession,requires2FA,ipAddress,quality,livenessScore,livenessDetection,identityMatch,antiSpoofing,qualityScore,riskScore',
    );
  });

  it('parses back: ISO times with the zone offset, booleans, empty for missing, neutralised text, numbers intact', async () => {
    const { text } = await renderCsv([TRICKY]);
    const [row] = parse(text, { bom: true, columns: true }) as Record<string, string>[];
    expect(Object.keys(row ?? {})).toEqual(DETAIL_KEYS);
    expect(row).toMatchObject({
      id: 'trick',
      createdAt: '2024-12-01T00:00:00.000-05:00',
      completedAt: '2024-12-01T00:01:30.250-05:00',
      updatedAt: '',
      expiresAt: '',
      identifier: `'=HYPERLINK("http://evil","click")`,
      ipAddress: "'+57 300 1234567",
      type: "'@import",
      livenessSession: "'\tsession",
      quality: "'\rbad",
      antiSpoofing: "'-1+1",
      clientName: 'Señora Müller, "Söhne"\nSegunda línea',
      requires2FA: 'false',
      livenessScore: '0.5',
      riskScore: '-0.25', // a negative number is a number, not a formula
      livenessDetection: '',
    });
  });

  it('writes one row per generated record, in order, with accents intact', async () => {
    const records = [
      ...createDataset({ seed: 5, start: WINDOW.start, end: WINDOW.end, count: 5_000, timeZone: TZ }),
    ];
    const { text, rows } = await renderCsv(records);
    expect(rows).toBe(records.length);
    const parsed = parse(text, { bom: true, columns: true }) as Record<string, string>[];
    expect(parsed.map((r) => r.id)).toEqual(records.map((r) => r._id));
    const names = new Set(parsed.map((r) => r.clientName));
    const expected = new Set(
      records.map((r) => (typeof r.client === 'object' ? (r.client?.name ?? '') : '')),
    );
    expect(names).toEqual(new Set([...expected].map(neutralise)));
    for (const r of parsed) {
      for (const key of DETAIL_KEYS) expect(r[key]).not.toMatch(/^[=+\-@\t\r]/);
    }
  });

  it('rejects when the output stops draining', async () => {
    const stuck = new Writable({ highWaterMark: 1024, write() {} });
    const w = createDetailsCsvWriter(stuck, { timeZone: TZ, watchdogMs: 150 });
    const rows = [...createDataset({ seed: 5, start: WINDOW.start, end: WINDOW.end, count: 3_000 })].map(
      flatten,
    );
    const run = async () => {
      for (const row of rows) {
        const wait = w.write(row);
        if (wait) await wait;
      }
      return w.finish();
    };
    await expect(run()).rejects.toBeInstanceOf(RenderStalledError);
    expect(stuck.destroyed).toBe(true);
  });
});

describe('IsoFormatter', () => {
  // With each zone's number of offset changes in 2024, so the dense runs below cannot be skipped.
  it.each([
    ['UTC', 0],
    ['America/Bogota', 0],
    ['Europe/Madrid', 2],
    ['America/Santiago', 2],
    ['Australia/Lord_Howe', 2],
    ['Asia/Kolkata', 0],
    ['America/St_Johns', 2],
    ['Pacific/Chatham', 2],
  ] as const)('formats exactly like ZoneClock.iso in %s', (zone, offsetChanges) => {
    const clock = new ZoneClock(zone);
    const fast = new IsoFormatter(clock);
    let x = 12345;
    const next = (): number => {
      x = (x * 1103515245 + 12345) % 2147483648;
      return x / 2147483648;
    };
    // Random instants over 1960–2040, then dense runs across this zone's 2024 DST changes.
    for (let i = 0; i < 3_000; i++) {
      const ms = Math.floor(-315_619_200_000 + next() * 2_524_608_000_000);
      expect(fast.format(ms)).toBe(clock.iso(ms));
    }
    for (let ms = Date.UTC(2024, 0, 1); ms < Date.UTC(2025, 0, 1); ms += 3_599_999) {
      expect(fast.format(ms)).toBe(clock.iso(ms));
    }
    // The path production takes: many instants within one local minute (cached prefix), and
    // around each offset change, where a local minute can recur with another offset.
    const changes: number[] = [];
    for (let ms = Date.UTC(2024, 0, 1); ms < Date.UTC(2025, 0, 1); ms += 900_000) {
      if (clock.offsetMinutes(ms) !== clock.offsetMinutes(ms + 900_000)) changes.push(ms);
    }
    expect(changes).toHaveLength(offsetChanges);
    for (const change of changes) {
      for (let ms = change - 7_200_000; ms < change + 7_200_000; ms += 4_999) {
        expect(fast.format(ms)).toBe(clock.iso(ms));
      }
    }
  });
});

describe('RFC 4180 encoding', () => {
  it('round-trips awkward fields through csv-parse', () => {
    const alphabet = ['a', ',', '"', '\r', '\n', ' ', 'ñ', '€', '😀', '\t', "'", ';'];
    let x = 7;
    const next = (): number => {
      x = (x * 1103515245 + 12345) % 2147483648;
      return x;
    };
    const records: string[][] = [];
    for (let r = 0; r < 300; r++) {
      const fields: string[] = [];
      for (let f = 0; f < 5; f++) {
        let v = '';
        const len = next() % 9;
        for (let k = 0; k < len; k++) v += alphabet[next() % alphabet.length];
        fields.push(v);
      }
      records.push(fields);
    }
    expect(parse(records.map(csvLine).join(''))).toEqual(records);
    expect(csvLine(['"', 'a,b', ''])).toBe('"""","a,b",\r\n');
  });

  it('a hole in the fields is an empty field, never "undefined"', () => {
    expect(csvLine(new Array<string>(2))).toBe(',\r\n');
  });
});

describe('summary CSV', () => {
  it('is long form (section,key,metric,value) and carries every headline figure', () => {
    const records = [
      TRICKY,
      ...createDataset({ seed: 2, start: WINDOW.start, end: WINDOW.end, count: 500, timeZone: TZ }),
    ];
    const b = new SummaryBuilder({ timeZone: TZ });
    for (const r of records) b.add(r);
    const summary = b.result();
    const ctx: ReportContext = {
      id: 'r-1',
      window: WINDOW,
      filters: { types: ['liveness'] },
      generatedAt: new Date('2024-12-02T06:00:00Z'),
      summary,
      diagnostics: { dropped: 1, note: '=not a formula' },
    };
    const { text, rows } = summaryCsvDocument(ctx);
    expect(text.startsWith('\uFEFFsection,key,metric,value\r\n')).toBe(true);
    const lines = parse(text, { bom: true, columns: true }) as Array<Record<string, string>>;
    expect(rows).toBe(lines.length);
    const get = (section: string, key: string, metric: string) =>
      lines.find((l) => l.section === section && l.key === key && l.metric === metric)?.value;
    expect(get('totals', '', 'validations')).toBe(String(records.length));
    expect(get('report', '', 'timeZone')).toBe(TZ);
    expect(get('report', '', 'filters')).toBe('type = liveness');
    for (const e of summary.byStatus) expect(get('byStatus', e.key, 'count')).toBe(String(e.count));
    expect(get('checks', 'identityMatch', 'passRate')).toBe(String(summary.checks.identityMatch.passRate));
    expect(get('scores', 'livenessScore', 'p90')).toBe(String(summary.scores.livenessScore.p90));
    expect(get('completion', '', 'p95Ms')).toBe(String(summary.completion.p95Ms));
    expect(get('highestRisk', '1', 'id')).toBe(summary.risk.top[0]?.id);
    expect(get('diagnostics', 'note', 'value')).toBe("'=not a formula");
    expect(get('missing', 'riskScore', 'count')).toBe(String(summary.missing.riskScore));
  });
});

describe('summary CSV: every figure under its own label', () => {
  /** The rows the summary CSV must hold, in order: one per figure, labelled by where it comes from. */
  type Value = string | number | null;

  /** The rows the summary CSV must hold, in order: one per figure, labelled by where it comes from. */
  function expectedRows(ctx: ReportContext): string[][] {
    const s = ctx.summary;
    const clock = new ZoneClock(ctx.window.timeZone);
    const rows: Array<[string, string, string, Value]> = [];
    const row = (section: string, key: string, metric: string, value: Value) => {
      rows.push([section, key, metric, value]);
    };
    row('report', '', 'id', ctx.id);
    row('report', '', 'from', ctx.window.from);
    row('report', '', 'to', ctx.window.to);
    row('report', '', 'timeZone', ctx.window.timeZone);
    row('report', '', 'windowStart', clock.iso(ctx.window.start.getTime()));
    row('report', '', 'windowEnd', clock.iso(ctx.window.end.getTime()));
    row('report', '', 'generatedAt', clock.iso(ctx.generatedAt.getTime()));
    row('report', '', 'filters', 'type = liveness');
    row('totals', '', 'validations', s.totals.validations);
    row('totals', '', 'failed', s.totals.failed);
    row('totals', '', 'highRisk', s.totals.highRisk);
    for (const section of ['byStatus', 'byType'] as const) {
      for (const e of s[section]) {
        row(section, e.key, 'count', e.count);
        row(section, e.key, 'share', e.share);
      }
    }
    for (const section of ['byClient', 'byProject'] as const) {
      for (const e of s[section]) {
        for (const m of ['name', 'count', 'failed', 'highRisk'] as const) row(section, e.id ?? '', m, e[m]);
      }
    }
    for (const h of s.byHour) {
      row('byHour', String(h.hour), 'count', h.count);
      row('byHour', String(h.hour), 'failed', h.failed);
    }
    for (const k of ['livenessDetection', 'identityMatch', 'antiSpoofing'] as const) {
      for (const m of ['passed', 'failed', 'other', 'missing', 'passRate', 'failRate'] as const)
        row('checks', k, m, s.checks[k][m]);
    }
    for (const k of ['livenessScore', 'qualityScore'] as const) {
      for (const m of ['count', 'mean', 'min', 'max', 'p50', 'p90', 'p99'] as const)
        row('scores', k, m, s.scores[k][m]);
    }
    row('risk', '', 'low', s.risk.buckets.low);
    row('risk', '', 'medium', s.risk.buckets.medium);
    row('risk', '', 'high', s.risk.buckets.high);
    row('risk', '', 'missing', s.risk.missing);
    row('risk', '', 'thresholdMedium', 0.3);
    row('risk', '', 'thresholdHigh', 0.7);
    s.risk.top.forEach((e, i) => {
      row('highestRisk', String(i + 1), 'id', e.id);
      row('highestRisk', String(i + 1), 'riskScore', e.riskScore);
      row('highestRisk', String(i + 1), 'createdAt', e.createdAt);
    });
    row('twoFactor', '', 'required', s.twoFactor.required);
    row('twoFactor', '', 'notRequired', s.twoFactor.notRequired);
    row('twoFactor', '', 'missing', s.twoFactor.missing);
    row('twoFactor', '', 'share', s.twoFactor.share);
    for (const m of ['count', 'negative', 'p50Ms', 'p95Ms', 'meanMs', 'maxMs', 'relativeError'] as const)
      row('completion', '', m, s.completion[m]);
    for (const [k, n] of Object.entries(s.missing)) row('missing', k, 'count', n);
    if (ctx.previous) {
      const p = ctx.previous;
      const change = (key: string, c: { current: Value; previous: Value; delta: Value }) => {
        row('previous', key, 'current', c.current);
        row('previous', key, 'previous', c.previous);
        row('previous', key, 'delta', c.delta);
      };
      change('validations', p.validations);
      change('failed', p.failed);
      change('highRisk', p.highRisk);
      for (const c of p.byStatus) change(`status:${c.key}`, c);
      for (const k of ['livenessDetection', 'identityMatch', 'antiSpoofing'] as const)
        change(`passRate:${k}`, p.passRates[k]);
    }
    for (const [k, v] of Object.entries(ctx.diagnostics)) row('diagnostics', k, 'value', v);
    const cell = (v: Value) => (v === null ? '' : typeof v === 'string' ? neutralise(v) : String(v));
    // Every text cell is neutralised, labels included ('@import' is a type a client may send).
    return rows.map((r) => r.map(cell));
  }

  function context(records: BiometricValidation[], previous?: BiometricValidation[]): ReportContext {
    const summarise = (rs: BiometricValidation[]) => {
      const b = new SummaryBuilder({ timeZone: TZ, topRisk: 3 });
      for (const r of rs) b.add(r);
      return b.result();
    };
    const summary = summarise(records);
    return {
      id: 'r-1',
      window: WINDOW,
      filters: { types: ['liveness'] },
      generatedAt: new Date('2024-12-02T06:00:00Z'),
      summary,
      ...(previous ? { previous: compareSummaries(summary, summarise(previous)) } : {}),
      diagnostics: { dropped: 1, note: '=not a formula' },
    };
  }

  const records = [
    TRICKY,
    ...createDataset({ seed: 2, start: WINDOW.start, end: WINDOW.end, count: 60, timeZone: TZ }),
  ];

  it('holds exactly the rows of the summary and the comparison, each under its section, key and metric', () => {
    const ctx = context(records, records.slice(0, 20));
    const { text, rows } = summaryCsvDocument(ctx);
    const parsed = parse(text, { bom: true }) as string[][];
    expect(parsed[0]).toEqual(['section', 'key', 'metric', 'value']);
    expect(parsed.slice(1)).toEqual(expectedRows(ctx));
    expect(rows).toBe(parsed.length - 1);
  });

  it('an empty report: unknown figures are empty cells, never "null"; no comparison rows without one', () => {
    const ctx = context([]);
    const parsed = parse(summaryCsvDocument(ctx).text, { bom: true }) as string[][];
    expect(parsed.slice(1)).toEqual(expectedRows(ctx));
    const value = (section: string, key: string, metric: string) =>
      parsed.find((l) => l[0] === section && l[1] === key && l[2] === metric)?.[3];
    expect(value('checks', 'identityMatch', 'passRate')).toBe('');
    expect(value('twoFactor', '', 'share')).toBe('');
    expect(value('completion', '', 'p50Ms')).toBe('');
    expect(parsed.some((l) => l[0] === 'previous')).toBe(false);
    expect(parsed.flat()).not.toContain('null');
  });
});

describe('details CSV writer: back-pressure and the order of calls', () => {
  const rows = [
    ...createDataset({ seed: 9, start: WINDOW.start, end: WINDOW.end, count: 2_500, timeZone: TZ }),
  ].map(flatten);

  /** Feeds every row; counts how often the writer asked to wait. */
  async function feed(out: Writable): Promise<number> {
    const w = createDetailsCsvWriter(out, { timeZone: TZ });
    let waits = 0;
    for (const row of rows) {
      const wait = w.write(row);
      if (wait) {
        waits++;
        await wait;
        // Resolved once the output took the batch: the caller never runs ahead of a full output.
        expect(out.writableNeedDrain).toBe(false);
      }
    }
    await w.finish();
    return waits;
  }

  it('asks the caller to wait when the output is full, and only then', async () => {
    const slow = new Writable({
      highWaterMark: 16 * 1024,
      write(_chunk, _enc, done) {
        setImmediate(done);
      },
    });
    const roomy = new Writable({
      highWaterMark: 64 * 1024 * 1024,
      write(_chunk, _enc, done) {
        done();
      },
    });
    expect(await feed(slow)).toBeGreaterThan(0);
    expect(await feed(roomy)).toBe(0);
  });

  it('an output that drains slowly but steadily is not a stall: the watchdog counts bytes leaving its buffer', async () => {
    // Never asks to wait (roomy buffer), so finish() waits for every queued batch to drain: about
    // 9 × 100 ms with nothing else moving, twice the watchdog. Only the output's own progress
    // (its shrinking buffer) keeps the watchdog from calling that a stall.
    const steady = new Writable({
      highWaterMark: 64 * 1024 * 1024,
      write(_chunk, _enc, done) {
        setTimeout(done, 100);
      },
    });
    const w = createDetailsCsvWriter(steady, { timeZone: TZ, watchdogMs: 400 });
    for (const row of [...rows, ...rows, ...rows]) expect(w.write(row)).toBeUndefined();
    expect(steady.writableLength).toBeGreaterThan(8 * 256 * 1024);
    await expect(w.finish()).resolves.toEqual({ rows: 3 * rows.length });
  });

  it('refuses writes after finish() or abort(), and a second finish()', async () => {
    const finished = createDetailsCsvWriter(new PassThrough().resume(), { timeZone: TZ });
    await finished.finish();
    expect(() => finished.write(rows[0] as never)).toThrow(WriterStateError);
    await expect(finished.finish()).rejects.toThrow(WriterStateError);

    const aborted = createDetailsCsvWriter(new PassThrough().resume(), { timeZone: TZ });
    aborted.abort(new Error('stop'));
    expect(() => aborted.write(rows[0] as never)).toThrow(WriterStateError);
    await expect(aborted.finish()).rejects.toThrow(WriterStateError);
  });

  it('abort() destroys the output with the failure; after finish() it leaves the file alone', async () => {
    const out = new PassThrough().resume();
    const errors: unknown[] = [];
    out.on('error', (e) => errors.push(e));
    const w = createDetailsCsvWriter(out, { timeZone: TZ });
    w.write(rows[0] as never);
    w.abort(new Error('upstream failed'));
    expect(out.destroyed).toBe(true);
    await new Promise((resolve) => setImmediate(resolve));
    expect(String(errors[0])).toContain('upstream failed');

    // autoDestroy off: a finished file stays as it is unless something destroys it.
    const done = new PassThrough({ autoDestroy: false }).resume();
    const w2 = createDetailsCsvWriter(done, { timeZone: TZ });
    await w2.finish();
    w2.abort(new Error('too late'));
    expect(done.destroyed).toBe(false);
    expect(done.errored).toBeNull();
  });
});

describe('details CSV writer: after a failure', () => {
  const row = flatten(TRICKY);

  it('says which call was out of order', async () => {
    const w = createDetailsCsvWriter(new PassThrough().resume(), { timeZone: TZ });
    await w.finish();
    expect(() => w.write(row)).toThrow('write() after finish() or abort()');
    await expect(w.finish()).rejects.toThrow('finish() called twice or after abort()');
  });

  it('an output that failed fails the next write and the finish, with the output’s error', async () => {
    const out = new PassThrough().resume();
    const w = createDetailsCsvWriter(out, { timeZone: TZ });
    out.destroy(new Error('disk full'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(() => w.write(row)).toThrow(/disk full/);
    const w2out = new PassThrough().resume();
    const w2 = createDetailsCsvWriter(w2out, { timeZone: TZ });
    w2out.destroy(new Error('socket closed'));
    await new Promise((resolve) => setImmediate(resolve));
    await expect(w2.finish()).rejects.toThrow(/socket closed/);
  });
});
