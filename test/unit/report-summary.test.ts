/**
 * Every summary figure against an oracle computed directly from the generator's records, the
 * plain way (arrays, sort, filter), independent of SummaryBuilder's bounded structures.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { createDataset } from '../../dev/fake-verifik/generator.js';
import { flatten } from '../../functions/report/columns.js';
import { DurationHistogram, nearestRank, ScoreHistogram } from '../../functions/report/quantiles.js';
import {
  compareSummaries,
  readPreviousSummary,
  type Summary,
  SummaryBuilder,
} from '../../functions/report/summary.js';
import { dayWindow } from '../../functions/time/window.js';
import type { BiometricValidation } from '../../functions/verifik/schema.js';

function exactQuantile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length))) - 1] ?? null;
}

function countBy<T>(items: T[], key: (t: T) => string | null | undefined): Map<string, number> {
  const m = new Map<string, number>();
  for (const t of items) {
    const k = key(t);
    if (k == null) continue;
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}

const isFailed = (r: BiometricValidation): boolean =>
  r.status === 'failed' ||
  r.verificationResults?.livenessDetection === 'failed' ||
  r.verificationResults?.identityMatch === 'failed' ||
  r.verificationResults?.antiSpoofing === 'failed';

function hourIn(timeZone: string, iso: string): number {
  const h = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', hourCycle: 'h23' }).format(
    new Date(iso),
  );
  return Number(h);
}

function summarise(records: BiometricValidation[], timeZone: string, topRisk?: number): Summary {
  const b = new SummaryBuilder({ timeZone, ...(topRisk === undefined ? {} : { topRisk }) });
  for (const r of records) b.add(r);
  return b.result();
}

const CASES = [
  { seed: 1, zone: 'America/Bogota', day: '2024-12-01', count: 3_000 },
  { seed: 42, zone: 'Europe/Madrid', day: '2024-10-27', count: 2_500 }, // 25-hour day
  { seed: 7, zone: 'Asia/Kolkata', day: '2025-03-09', count: 1_500 },
];

describe.each(CASES)('summary vs oracle: seed $seed in $zone', ({ seed, zone, day, count }) => {
  let records: BiometricValidation[] = [];
  let s: Summary;
  let n = 0;
  // Before each test, not at collection nor in beforeAll: Stryker's vitest setup attributes coverage
  // to a test only between beforeEach and afterEach, so code run earlier is "static" to it (npm run
  // mutate) and its mutants are not active in these tests.
  beforeEach(() => {
    const w = dayWindow(day, zone);
    records = [...createDataset({ seed, start: w.start, end: w.end, count, timeZone: zone })];
    s = summarise(records, zone);
    n = records.length;
  });

  it('totals, statuses (open set), types, failed and high risk', () => {
    expect(s.totals.validations).toBe(n);
    expect(s.totals.failed).toBe(records.filter(isFailed).length);
    expect(s.totals.highRisk).toBe(records.filter((r) => r.riskScore != null && r.riskScore >= 0.7).length);
    const status = countBy(records, (r) => r.status);
    expect(new Map(s.byStatus.map((e) => [e.key, e.count]))).toEqual(status);
    // The generator includes a status outside the documented set; it must be shown.
    expect(
      [...status.keys()].some(
        (k) => !['new', 'sent', 'pending', 'validated', 'completed', 'failed', 'expired'].includes(k),
      ),
    ).toBe(true);
    expect(new Map(s.byType.map((e) => [e.key, e.count]))).toEqual(countBy(records, (r) => r.type));
    expect(s.missing.type).toBe(records.filter((r) => r.type == null).length);
    const counts = s.byStatus.map((e) => e.count);
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
  });

  it('clients and projects with their names', () => {
    const byClient = countBy(records, (r) =>
      r.client == null ? '(none)' : typeof r.client === 'string' ? r.client : r.client._id,
    );
    expect(new Map(s.byClient.map((e) => [e.id ?? '(none)', e.count]))).toEqual(byClient);
    for (const e of s.byClient) {
      const mine = records.filter(
        (r) => r.client != null && typeof r.client !== 'string' && r.client._id === e.id,
      );
      if (mine.length > 0 && typeof mine[0]?.client === 'object') expect(e.name).toBe(mine[0].client?.name);
      expect(e.failed).toBe(mine.filter(isFailed).length);
    }
    const byProject = countBy(records, (r) =>
      r.project == null ? '(none)' : typeof r.project === 'string' ? r.project : r.project._id,
    );
    expect(new Map(s.byProject.map((e) => [e.id ?? '(none)', e.count]))).toEqual(byProject);
  });

  it('hour of day in the report zone', () => {
    const hours = Array.from({ length: 24 }, () => 0);
    for (const r of records) hours[hourIn(zone, r.createdAt)]! += 1;
    expect(s.byHour.map((h) => h.count)).toEqual(hours);
    expect(s.byHour.reduce((a, h) => a + h.failed, 0)).toBe(s.totals.failed);
  });

  it('checks: passed, failed, other, missing and rates', () => {
    for (const key of ['livenessDetection', 'identityMatch', 'antiSpoofing'] as const) {
      const values = records.map((r) => r.verificationResults?.[key] ?? null);
      const passed = values.filter((v) => v === 'passed').length;
      const failed = values.filter((v) => v === 'failed').length;
      const missing = values.filter((v) => v === null).length;
      const other = n - passed - failed - missing;
      const c = s.checks[key];
      expect({ passed: c.passed, failed: c.failed, other: c.other, missing: c.missing }).toEqual({
        passed,
        failed,
        other,
        missing,
      });
      expect(c.passRate).toBeCloseTo(passed / (passed + failed + other), 12);
    }
  });

  it('score distributions (exact min/max/mean, quantiles within the documented resolution)', () => {
    const liveness = records
      .map((r) => r.biometricData?.livenessScore)
      .filter((v): v is number => typeof v === 'number');
    const quality = records
      .map((r) => r.verificationResults?.qualityScore)
      .filter((v): v is number => typeof v === 'number');
    for (const [values, d] of [
      [liveness, s.scores.livenessScore],
      [quality, s.scores.qualityScore],
    ] as const) {
      expect(d.count).toBe(values.length);
      expect(values.length).toBeGreaterThan(0);
      expect(d.min).toBe(Math.min(...values));
      expect(d.max).toBe(Math.max(...values));
      expect(d.mean).toBeCloseTo(values.reduce((a, v) => a + v, 0) / values.length, 10);
      for (const [p, got] of [
        [0.5, d.p50],
        [0.9, d.p90],
        [0.99, d.p99],
      ] as const) {
        expect(Math.abs((got ?? Number.NaN) - (exactQuantile(values, p) ?? 0))).toBeLessThanOrEqual(
          ScoreHistogram.RESOLUTION / 2 + 1e-12,
        );
      }
    }
    expect(s.missing.livenessScore).toBe(n - liveness.length);
    expect(s.missing.qualityScore).toBe(n - quality.length);
  });

  it('risk buckets, missing risk, and the highest-risk list', () => {
    const risks = records.filter((r) => typeof r.riskScore === 'number');
    const score = (r: BiometricValidation) => r.riskScore as number;
    expect(s.risk.buckets).toEqual({
      low: risks.filter((r) => score(r) < 0.3).length,
      medium: risks.filter((r) => score(r) >= 0.3 && score(r) < 0.7).length,
      high: risks.filter((r) => score(r) >= 0.7).length,
    });
    expect(s.risk.missing).toBe(n - risks.length);
    const expected = [...risks]
      .sort(
        (a, b) =>
          score(b) - score(a) ||
          Date.parse(a.createdAt) - Date.parse(b.createdAt) ||
          (a._id < b._id ? -1 : 1),
      )
      .slice(0, 50)
      .map((r) => r._id);
    expect(s.risk.top.map((e) => e.id)).toEqual(expected);
  });

  it('2FA share and completion time', () => {
    const required = records.filter((r) => r.requires2FA === true).length;
    const notRequired = records.filter((r) => r.requires2FA === false).length;
    expect(s.twoFactor).toEqual({
      required,
      notRequired,
      missing: n - required - notRequired,
      share: required / (required + notRequired),
    });
    const durations = records
      .filter((r) => r.completedAt != null)
      .map((r) => Date.parse(r.completedAt as string) - Date.parse(r.createdAt))
      .filter((d) => d >= 0);
    expect(s.completion.count).toBe(durations.length);
    for (const [p, got] of [
      [0.5, s.completion.p50Ms],
      [0.95, s.completion.p95Ms],
    ] as const) {
      const exact = exactQuantile(durations, p) as number;
      expect(Math.abs((got as number) - exact)).toBeLessThanOrEqual(exact * DurationHistogram.ALPHA + 1e-9);
    }
    expect(s.completion.maxMs).toBe(Math.max(...durations));
    expect(s.missing.completedAt).toBe(records.filter((r) => r.completedAt == null).length);
  });

  it('is plain JSON (survives a round trip unchanged)', () => {
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });
});

describe('summary edge cases', () => {
  const base: BiometricValidation = {
    _id: 'a1',
    status: 'completed',
    createdAt: '2024-12-01T10:00:00.000Z',
  };

  it('an empty report has zero counts and null figures, not zeros', () => {
    const s = summarise([], 'UTC');
    expect(s.totals.validations).toBe(0);
    expect(s.scores.livenessScore).toEqual({
      count: 0,
      mean: null,
      min: null,
      max: null,
      p50: null,
      p90: null,
      p99: null,
    });
    expect(s.checks.identityMatch.passRate).toBeNull();
    expect(s.twoFactor.share).toBeNull();
    expect(s.completion.p50Ms).toBeNull();
  });

  it('missing optional fields are counted as missing, never as zero or false', () => {
    const s = summarise([base, { ...base, _id: 'a2', riskScore: 0, requires2FA: false }], 'UTC');
    expect(s.missing.riskScore).toBe(1);
    expect(s.risk.buckets.low).toBe(1);
    expect(s.twoFactor).toMatchObject({ required: 0, notRequired: 1, missing: 1 });
    expect(s.missing.clientId).toBe(2);
    expect(s.byClient).toEqual([{ id: null, name: null, count: 2, failed: 0, highRisk: 0 }]);
  });

  it('keeps statuses named like Object.prototype members', () => {
    const s = summarise(
      [
        { ...base, status: '__proto__' },
        { ...base, _id: 'b', status: 'constructor' },
      ],
      'UTC',
    );
    expect(s.byStatus.map((e) => e.key).sort()).toEqual(['__proto__', 'constructor']);
  });

  it('the highest-risk list is bounded and breaks ties by createdAt, then id', () => {
    const rows = [
      { ...base, _id: 'z', riskScore: 0.9, createdAt: '2024-12-01T10:00:00.000Z' },
      { ...base, _id: 'y', riskScore: 0.9, createdAt: '2024-12-01T09:00:00.000Z' },
      { ...base, _id: 'x', riskScore: 0.9, createdAt: '2024-12-01T10:00:00.000Z' },
      { ...base, _id: 'w', riskScore: 0.95, createdAt: '2024-12-01T11:00:00.000Z' },
      { ...base, _id: 'v', riskScore: 0.1 },
    ];
    expect(summarise(rows, 'UTC', 3).risk.top.map((e) => e.id)).toEqual(['w', 'y', 'x']);
    expect(summarise([...rows].reverse(), 'UTC', 3).risk.top.map((e) => e.id)).toEqual(['w', 'y', 'x']);
  });

  it('accepts the pre-flattened row and gives the same result', () => {
    const a = new SummaryBuilder({ timeZone: 'UTC' });
    const b = new SummaryBuilder({ timeZone: 'UTC' });
    const r = { ...base, riskScore: 0.5, verificationResults: { identityMatch: 'inconclusive' } };
    a.add(r);
    b.add(r, flatten(r));
    expect(a.result()).toEqual(b.result());
    expect(a.result().checks.identityMatch.other).toBe(1);
  });

  it('compares with the previous report, including statuses that appeared or vanished', () => {
    const prev = summarise([base, { ...base, _id: 'p2', status: 'failed' }], 'UTC');
    const cur = summarise([base, { ...base, _id: 'c2' }, { ...base, _id: 'c3', status: 'expired' }], 'UTC');
    const d = compareSummaries(cur, prev);
    expect(d.validations).toEqual({ current: 3, previous: 2, delta: 1, relative: 0.5 });
    expect(d.byStatus).toEqual([
      { key: 'completed', current: 2, previous: 1, delta: 1, relative: 1 },
      { key: 'expired', current: 1, previous: 0, delta: 1, relative: null },
      { key: 'failed', current: 0, previous: 1, delta: -1, relative: -1 },
    ]);
    expect(d.passRates.identityMatch.delta).toBeNull();
  });
});

describe('quantile structures vs exact nearest-rank quantiles', () => {
  it('nearest rank', () => {
    expect(nearestRank(0.5, 4)).toBe(2);
    expect(nearestRank(0.5, 5)).toBe(3);
    expect(nearestRank(0.99, 10)).toBe(10);
    expect(nearestRank(0.01, 10)).toBe(1);
  });

  it('scores with at most four decimals are exact', () => {
    let x = 12345;
    const values: number[] = [];
    const h = new ScoreHistogram();
    for (let i = 0; i < 5_000; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      const v = Math.round((x / 2147483648) * 10_000) / 10_000;
      values.push(v);
      h.add(v);
    }
    for (const p of [0.01, 0.5, 0.9, 0.99, 1]) expect(h.quantile(p)).toBe(exactQuantile(values, p));
  });

  it('durations stay within the relative error bound over a wide range', () => {
    const values: number[] = [];
    const h = new DurationHistogram();
    let x = 99;
    for (let i = 0; i < 5_000; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      const v = Math.floor(Math.exp((x / 2147483648) * 20)); // 1 ms … ~5.6 days
      values.push(v);
      h.add(v);
    }
    h.add(0);
    values.push(0);
    for (const p of [0.01, 0.5, 0.95, 0.999]) {
      const exact = exactQuantile(values, p) as number;
      expect(Math.abs((h.quantile(p) as number) - exact)).toBeLessThanOrEqual(
        exact * DurationHistogram.ALPHA,
      );
    }
    expect(new DurationHistogram().quantile(0.5)).toBeNull();
  });
});

describe('summary: names, ties and what is read back', () => {
  const at = (id: string, extra: Partial<BiometricValidation> = {}): BiometricValidation => ({
    _id: id,
    status: 'completed',
    createdAt: '2024-12-01T10:00:00.000Z',
    ...extra,
  });

  it("a client's name is the first populated one seen, in one pass and across merged slices", () => {
    const records = [
      at('a', { client: 'c1' }),
      at('b', { client: { _id: 'c1', name: 'First' } }),
      at('c', { client: { _id: 'c1', name: 'Second' } }),
      at('d', { client: { _id: 'c1', name: null } }),
    ];
    expect(summarise(records, 'UTC').byClient).toEqual([
      { id: 'c1', name: 'First', count: 4, failed: 0, highRisk: 0 },
    ]);
    const slice = (rs: BiometricValidation[]) => {
      const b = new SummaryBuilder({ timeZone: 'UTC' });
      for (const r of rs) b.add(r);
      return b.state();
    };
    const merged = SummaryBuilder.merged('UTC', [
      slice(records.slice(0, 1)),
      slice(records.slice(1, 2)),
      slice(records.slice(2)),
    ]);
    expect(merged.result().byClient[0]?.name).toBe('First');
  });

  it('equal counts are ordered by key, whatever order the keys came in', () => {
    const s = summarise(
      [
        at('1', { status: 'c', type: 'z' }),
        at('2', { status: 'b', type: 'y' }),
        at('3', { status: 'a', type: 'x' }),
      ],
      'UTC',
    );
    expect(s.byStatus.map((e) => e.key)).toEqual(['a', 'b', 'c']);
    expect(s.byType.map((e) => e.key)).toEqual(['x', 'y', 'z']);
  });

  it('a validation completed at the instant it was created took 0 ms; only an earlier completion is negative', () => {
    const s = summarise(
      [
        at('same', { completedAt: '2024-12-01T10:00:00.000Z' }),
        at('later', { completedAt: '2024-12-01T10:00:00.250Z' }),
        at('before', { completedAt: '2024-12-01T09:59:59.999Z' }),
      ],
      'UTC',
    );
    expect(s.completion.count).toBe(2);
    expect(s.completion.negative).toBe(1);
    expect(s.completion.p50Ms).toBe(0);
  });

  it('refuses to merge slices summarised in another zone', () => {
    const b = new SummaryBuilder({ timeZone: 'UTC' });
    expect(() => SummaryBuilder.merged('Europe/Madrid', [b.state()])).toThrow(
      'cannot merge a summary in UTC into one in Europe/Madrid',
    );
  });

  it('a top list of 0 keeps nothing; rows without a risk score never enter it', () => {
    expect(summarise([at('a', { riskScore: 0.9 })], 'UTC', 0).risk.top).toEqual([]);
    expect(summarise([at('a'), at('b', { riskScore: 0.1 })], 'UTC', 5).risk.top.map((e) => e.id)).toEqual([
      'b',
    ]);
  });

  it('a stored summary is read back, or refused with the reason', () => {
    const s = summarise([at('a')], 'UTC');
    expect(readPreviousSummary(JSON.stringify(s))).toEqual({ ok: true, summary: s });
    expect(readPreviousSummary('{"totals":')).toEqual({
      ok: false,
      problem: 'not valid JSON (10 characters; a write cut short?)',
    });
    const wrong = readPreviousSummary(JSON.stringify({ ...s, totals: { validations: -1 } }));
    expect(wrong.ok).toBe(false);
    expect(!wrong.ok && wrong.problem).toMatch(/^not a summary this version can compare with: .*totals/);
    // A value that is no object at all is named as the summary itself.
    const bare = readPreviousSummary('5');
    expect(!bare.ok && bare.problem).toMatch(/^not a summary this version can compare with: summary: /);
    // A long list of problems is cut at 300 characters.
    const long = readPreviousSummary(
      JSON.stringify({ byStatus: Array.from({ length: 50 }, () => ({ key: 1 })) }),
    );
    expect(!long.ok && long.problem.length).toBe(
      'not a summary this version can compare with: '.length + 300,
    );
    expect(!long.ok && long.problem.endsWith('…')).toBe(true);
  });
});
