/**
 * For random record sets, every figure of the summary equals a plain recomputation from the
 * records (filter, count, sort), whatever their order, and the merge of slices equals one pass.
 * Small value domains on purpose: few clients, few instants and few risk scores make the ties,
 * the collisions and the threshold edges (0.3, 0.7) that fixed datasets rarely hit.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { flatten } from '../../functions/report/columns.js';
import { nearestRank } from '../../functions/report/quantiles.js';
import { change, compareSummaries, type Summary, SummaryBuilder } from '../../functions/report/summary.js';
import type { BiometricValidation } from '../../functions/verifik/schema.js';

const CHECKS = ['livenessDetection', 'identityMatch', 'antiSpoofing'] as const;
const ZONES = ['UTC', 'America/Bogota', 'Asia/Kolkata', 'Europe/Madrid'];
const BASE = Date.UTC(2024, 11, 1, 0, 0, 0);

const ref = (prefix: string) =>
  fc.oneof(
    fc.constant(null),
    fc.constantFrom(`${prefix}1`, `${prefix}2`),
    fc.record({
      _id: fc.constantFrom(`${prefix}1`, `${prefix}2`, `${prefix}3`),
      name: fc.constantFrom(null, `${prefix} One`, `${prefix} Two`),
    }),
  );

const check = fc.constantFrom(null, 'passed', 'failed', 'pending', 'inconclusive');
/** Scores with at most four decimals: the histograms hold them exactly (quantiles.ts). */
const score = fc.option(
  fc.integer({ min: 0, max: 10_000 }).map((n) => n / 10_000),
  { nil: null },
);

const recordBody = fc.record({
  status: fc.constantFrom('completed', 'failed', 'pending', 'expired', 'constructor'),
  type: fc.constantFrom(null, 'login', 'signup', 'kyc'),
  identifier: fc.constantFrom(null, 'ID-1', 'ID-2'),
  client: ref('client'),
  project: ref('project'),
  // A few instants, an hour apart: ties in createdAt for the top list and hours across midnight.
  createdAtHour: fc.integer({ min: 0, max: 30 }),
  completedAfterMs: fc.option(fc.integer({ min: -5_000, max: 3_600_000 }), { nil: null }),
  requires2FA: fc.constantFrom(null, true, false),
  riskScore: fc.option(fc.constantFrom(0, 0.1, 0.2999, 0.3, 0.5, 0.6999, 0.7, 0.85, 1), { nil: null }),
  livenessScore: score,
  qualityScore: score,
  checks: fc.tuple(check, check, check),
});

const records = fc
  .array(recordBody, { maxLength: 60 })
  .map((bodies) => bodies.map((b, i): BiometricValidation => toRecord(b, `v${String(i).padStart(3, '0')}`)));

type Body = typeof recordBody extends fc.Arbitrary<infer T> ? T : never;

function toRecord(b: Body, id: string): BiometricValidation {
  const createdAt = BASE + b.createdAtHour * 3_600_000;
  return {
    _id: id,
    status: b.status,
    type: b.type,
    identifier: b.identifier,
    client: b.client,
    project: b.project,
    createdAt: new Date(createdAt).toISOString(),
    completedAt: b.completedAfterMs === null ? null : new Date(createdAt + b.completedAfterMs).toISOString(),
    requires2FA: b.requires2FA,
    riskScore: b.riskScore,
    biometricData: { livenessScore: b.livenessScore },
    verificationResults: {
      livenessDetection: b.checks[0],
      identityMatch: b.checks[1],
      antiSpoofing: b.checks[2],
      qualityScore: b.qualityScore,
    },
  };
}

function summarise(rs: readonly BiometricValidation[], timeZone: string, topRisk: number): Summary {
  const b = new SummaryBuilder({ timeZone, topRisk });
  for (const r of rs) b.add(r);
  return b.result();
}

// ---- the plain recomputation ----------------------------------------------------------------

const idOf = (r: BiometricValidation['client']) => (r == null ? null : typeof r === 'string' ? r : r._id);
const nameOf = (r: BiometricValidation['client']) =>
  r == null || typeof r === 'string' ? null : (r.name ?? null);
const isFailed = (r: BiometricValidation) =>
  r.status === 'failed' || CHECKS.some((k) => r.verificationResults?.[k] === 'failed');
const isHigh = (r: BiometricValidation) => r.riskScore != null && r.riskScore >= 0.7;
const byKey = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function counts(
  rs: readonly BiometricValidation[],
  key: (r: BiometricValidation) => string | null | undefined,
) {
  const keys = [...new Set(rs.map(key).filter((k): k is string => k != null))];
  return keys
    .map((k) => {
      const count = rs.filter((r) => key(r) === k).length;
      return { key: k, count, share: count / rs.length };
    })
    .sort((a, b) => b.count - a.count || byKey(a.key, b.key));
}

function parties(
  rs: readonly BiometricValidation[],
  pick: (r: BiometricValidation) => BiometricValidation['client'],
) {
  const ids = [...new Set(rs.map((r) => idOf(pick(r))))];
  return ids
    .map((id) => {
      const mine = rs.filter((r) => idOf(pick(r)) === id);
      return {
        id,
        // The first populated name, in record order.
        name: mine.map((r) => nameOf(pick(r))).find((n) => n !== null) ?? null,
        count: mine.length,
        failed: mine.filter(isFailed).length,
        highRisk: mine.filter(isHigh).length,
      };
    })
    .sort((a, b) => b.count - a.count || String(a.id).localeCompare(String(b.id)));
}

const hourFormats = new Map(
  ZONES.map((timeZone) => [
    timeZone,
    new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', hourCycle: 'h23' }),
  ]),
);
const hourIn = (timeZone: string, iso: string) => Number(hourFormats.get(timeZone)?.format(new Date(iso)));

function distribution(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const q = (p: number) => (sorted.length === 0 ? null : (sorted[nearestRank(p, sorted.length) - 1] ?? null));
  return {
    count: values.length,
    min: sorted[0] ?? null,
    max: sorted.at(-1) ?? null,
    mean: values.length === 0 ? null : values.reduce((a, v) => a + v, 0) / values.length,
    p50: q(0.5),
    p90: q(0.9),
    p99: q(0.99),
  };
}

/** A mean: null when there is nothing to average, else equal up to float summation order. */
function closeOrNull(got: number | null, want: number | null): void {
  if (want === null) expect(got).toBeNull();
  else expect(got).toBeCloseTo(want, 9);
}

const run = { numRuns: 100 };

describe('summary property: every figure is a plain recomputation from the records', () => {
  it('totals, statuses, types, clients, projects, hours', () => {
    fc.assert(
      fc.property(records, fc.constantFrom(...ZONES), (rs, zone) => {
        const s = summarise(rs, zone, 5);
        expect(s.totals).toEqual({
          validations: rs.length,
          failed: rs.filter(isFailed).length,
          highRisk: rs.filter(isHigh).length,
        });
        // Share is count ÷ all validations (also for types: a missing type still counts in the total).
        expect(s.byStatus).toEqual(counts(rs, (r) => r.status));
        expect(s.byType).toEqual(counts(rs, (r) => r.type));
        expect(s.byClient).toEqual(parties(rs, (r) => r.client));
        expect(s.byProject).toEqual(parties(rs, (r) => r.project));
        const hours = rs.map((r) => hourIn(zone, r.createdAt));
        expect(s.byHour).toEqual(
          Array.from({ length: 24 }, (_, hour) => {
            const mine = rs.filter((_, i) => hours[i] === hour);
            return { hour, count: mine.length, failed: mine.filter(isFailed).length };
          }),
        );
      }),
      run,
    );
  });

  it('checks: counts, pass rate = passed ÷ evaluated, fail rate = failed ÷ evaluated', () => {
    fc.assert(
      fc.property(records, (rs) => {
        const s = summarise(rs, 'UTC', 5);
        for (const key of CHECKS) {
          const values = rs.map((r) => r.verificationResults?.[key] ?? null);
          const passed = values.filter((v) => v === 'passed').length;
          const failed = values.filter((v) => v === 'failed').length;
          const missing = values.filter((v) => v === null).length;
          const other = values.length - passed - failed - missing;
          const evaluated = passed + failed + other;
          expect(s.checks[key]).toEqual({
            passed,
            failed,
            other,
            missing,
            passRate: evaluated === 0 ? null : passed / evaluated,
            failRate: evaluated === 0 ? null : failed / evaluated,
          });
        }
      }),
      run,
    );
  });

  it('scores, risk buckets, the top list with its tie-breaks, 2FA, completion, missing', () => {
    fc.assert(
      fc.property(records, fc.integer({ min: 0, max: 8 }), (rs, topRisk) => {
        const s = summarise(rs, 'UTC', topRisk);
        const { mean: lm, ...liveness } = distribution(
          rs.map((r) => r.biometricData?.livenessScore).filter((v): v is number => v != null),
        );
        const { mean: qm, ...quality } = distribution(
          rs.map((r) => r.verificationResults?.qualityScore).filter((v): v is number => v != null),
        );
        expect(s.scores.livenessScore).toMatchObject(liveness);
        expect(s.scores.qualityScore).toMatchObject(quality);
        closeOrNull(s.scores.livenessScore.mean, lm);
        closeOrNull(s.scores.qualityScore.mean, qm);

        const risky = rs.filter((r) => r.riskScore != null);
        const risk = (r: BiometricValidation) => r.riskScore as number;
        expect(s.risk.buckets).toEqual({
          low: risky.filter((r) => risk(r) < 0.3).length,
          medium: risky.filter((r) => risk(r) >= 0.3 && risk(r) < 0.7).length,
          high: risky.filter((r) => risk(r) >= 0.7).length,
        });
        expect(s.risk.missing).toBe(rs.length - risky.length);
        // Highest risk first; ties: earlier createdAt, then the smaller id.
        const top = [...risky]
          .sort(
            (a, b) =>
              risk(b) - risk(a) || Date.parse(a.createdAt) - Date.parse(b.createdAt) || byKey(a._id, b._id),
          )
          .slice(0, topRisk);
        expect(s.risk.top.map((e) => ({ ...e, createdAt: Date.parse(e.createdAt) }))).toEqual(
          top.map((r) => ({
            id: r._id,
            createdAt: Date.parse(r.createdAt),
            riskScore: r.riskScore,
            status: r.status,
            type: r.type ?? null,
            identifier: r.identifier ?? null,
            clientId: idOf(r.client),
            clientName: nameOf(r.client),
          })),
        );

        const required = rs.filter((r) => r.requires2FA === true).length;
        const notRequired = rs.filter((r) => r.requires2FA === false).length;
        expect(s.twoFactor).toEqual({
          required,
          notRequired,
          missing: rs.length - required - notRequired,
          share: required + notRequired === 0 ? null : required / (required + notRequired),
        });

        const durations = rs
          .filter((r) => r.completedAt != null)
          .map((r) => Date.parse(r.completedAt as string) - Date.parse(r.createdAt));
        const kept = durations.filter((d) => d >= 0);
        expect(s.completion).toMatchObject({
          count: kept.length,
          negative: durations.length - kept.length,
          maxMs: kept.length === 0 ? null : Math.max(...kept),
        });
        closeOrNull(
          s.completion.meanMs,
          kept.length === 0 ? null : kept.reduce((a, d) => a + d, 0) / kept.length,
        );

        const rows = rs.map(flatten);
        for (const [key, n] of Object.entries(s.missing)) {
          expect(n, key).toBe(rows.filter((row) => row[key as keyof typeof row] === null).length);
        }
      }),
      run,
    );
  });

  it('does not depend on the order of records (apart from first-seen names)', () => {
    fc.assert(
      fc.property(records, (rs) => {
        const forward = summarise(rs, 'UTC', 4);
        const backward = summarise([...rs].reverse(), 'UTC', 4);
        const withoutNames = (s: Summary) => ({
          ...s,
          byClient: s.byClient.map(({ name: _, ...p }) => p),
          byProject: s.byProject.map(({ name: _, ...p }) => p),
          scores: null,
          completion: { ...s.completion, meanMs: null },
        });
        expect(withoutNames(backward)).toEqual(withoutNames(forward));
      }),
      run,
    );
  });

  it('slices merged in time order equal one pass over the whole set', () => {
    fc.assert(
      fc.property(records, fc.nat(), fc.nat(), (rs, a, b) => {
        const [i, j] = [a % (rs.length + 1), b % (rs.length + 1)].sort((x, y) => x - y) as [number, number];
        const slices = [rs.slice(0, i), rs.slice(i, j), rs.slice(j)].map((part) => {
          const builder = new SummaryBuilder({ timeZone: 'Asia/Kolkata', topRisk: 3 });
          for (const r of part) builder.add(r);
          return JSON.parse(JSON.stringify(builder.state()));
        });
        const merged = SummaryBuilder.merged('Asia/Kolkata', slices, { topRisk: 3 }).result();
        const whole = summarise(rs, 'Asia/Kolkata', 3);
        const noMeans = (s: Summary) => ({
          ...s,
          scores: {
            livenessScore: { ...s.scores.livenessScore, mean: null },
            qualityScore: { ...s.scores.qualityScore, mean: null },
          },
          completion: { ...s.completion, meanMs: null },
        });
        expect(noMeans(merged)).toEqual(noMeans(whole));
        // Float sums in another order: equal to the last bits.
        expect(merged.completion.meanMs ?? 0).toBeCloseTo(whole.completion.meanMs ?? 0, 6);
        expect(merged.scores.livenessScore.mean ?? 0).toBeCloseTo(whole.scores.livenessScore.mean ?? 0, 10);
      }),
      { numRuns: 40 },
    );
  });

  it('the comparison: delta = current − previous, relative = delta ÷ previous, per status and rate', () => {
    fc.assert(
      fc.property(records, records, (cur, prev) => {
        const c = summarise(cur, 'UTC', 0);
        const p = summarise(prev, 'UTC', 0);
        const d = compareSummaries(c, p);
        const plain = (x: number | null, y: number | null) => {
          const delta = x === null || y === null ? null : x - y;
          return { current: x, previous: y, delta, relative: delta === null || !y ? null : delta / y };
        };
        expect(d.validations).toEqual(plain(cur.length, prev.length));
        expect(d.failed).toEqual(plain(c.totals.failed, p.totals.failed));
        expect(d.highRisk).toEqual(plain(c.totals.highRisk, p.totals.highRisk));
        const prevCount = new Map(p.byStatus.map((e) => [e.key, e.count]));
        const vanished = p.byStatus.filter((e) => !c.byStatus.some((x) => x.key === e.key));
        expect(d.byStatus).toEqual([
          ...c.byStatus.map((e) => ({ key: e.key, ...plain(e.count, prevCount.get(e.key) ?? 0) })),
          ...vanished.map((e) => ({ key: e.key, ...plain(0, e.count) })),
        ]);
        for (const key of CHECKS) {
          expect(d.passRates[key]).toEqual(plain(c.checks[key].passRate, p.checks[key].passRate));
        }
      }),
      run,
    );
  });

  it('change(): unknown on either side gives no delta and no relative change', () => {
    expect(change(3, null)).toEqual({ current: 3, previous: null, delta: null, relative: null });
    expect(change(null, 4)).toEqual({ current: null, previous: 4, delta: null, relative: null });
    expect(change(3, 0)).toEqual({ current: 3, previous: 0, delta: 3, relative: null });
    expect(change(6, 4)).toEqual({ current: 6, previous: 4, delta: 2, relative: 0.5 });
  });
});
