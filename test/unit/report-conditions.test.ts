/**
 * `sendIf`: the schema's field-named refusals and every decision path of the evaluator, on
 * summaries built from records (not hand-written summaries), so a figure means what the mail shows.
 */
import { describe, expect, it } from 'vitest';
import { decide, describeOutcome, median, metricValue } from '../../functions/report/conditions.js';
import { type Summary, SummaryBuilder } from '../../functions/report/summary.js';
import { SendIf } from '../../functions/settings/conditions.js';
import { ReportDefinitions } from '../../functions/settings/definitions.js';
import type { BiometricValidation } from '../../functions/verifik/schema.js';

interface Shape {
  total: number;
  failed?: number;
  highRisk?: number;
  spoofFailed?: number;
}

/** A summary of `total` validations, the first `failed` failed, the first `highRisk` high-risk. */
function summaryOf({ total, failed = 0, highRisk = 0, spoofFailed = 0 }: Shape): Summary {
  const b = new SummaryBuilder({ timeZone: 'UTC' });
  for (let i = 0; i < total; i++) {
    const r: BiometricValidation = {
      _id: `v${i}`,
      status: i < failed ? 'failed' : 'completed',
      createdAt: '2026-11-26T10:00:00.000Z',
      riskScore: i < highRisk ? 0.9 : 0.1,
      verificationResults: { antiSpoofing: i < spoofFailed ? 'failed' : 'passed' },
    };
    b.add(r);
  }
  return b.result();
}

const rule = (input: unknown) => SendIf.parse(input);

describe('sendIf schema', () => {
  const def = (sendIf: unknown, extra: object = {}) => [
    {
      name: 'ops',
      schedule: { timeZone: 'UTC' },
      owners: ['o@example.com'],
      sendIf,
      ...extra,
    },
  ];
  const problems = (input: unknown) => {
    const r = ReportDefinitions.safeParse(input);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('defaults to always, and accepts the two words and a rule', () => {
    const parsed = ReportDefinitions.parse(def(undefined));
    expect(parsed[0]?.sendIf).toBe('always');
    expect(problems(def('not-empty'))).toEqual([]);
    expect(problems(def({ conditions: [{ metric: 'failureRate', above: 0.1 }] }))).toEqual([]);
  });

  it('names the field of each mistake', () => {
    expect(problems(def({ conditions: [{ metric: 'failureRate' }] }))).toEqual([
      expect.stringMatching(/^0\.sendIf\.conditions\.0\.above: .*"above" or "below"/),
    ]);
    expect(problems(def({ conditions: [{ metric: 'failureRate', above: 10 }] }))[0]).toMatch(
      /conditions\.0\.above: failureRate is a fraction from 0 to 1 \(write 0\.1 for 10%\), got 10/,
    );
    expect(problems(def({ conditions: [{ metric: 'checkFailRate', above: 0.1 }] }))[0]).toMatch(
      /conditions\.0\.check: .*antiSpoofing/,
    );
    expect(problems(def({ conditions: [{ metric: 'failed', check: 'antiSpoofing', above: 1 }] }))[0]).toMatch(
      /conditions\.0\.check: "check" applies to metric "checkFailRate" only/,
    );
    expect(problems(def({ conditions: [{ metric: 'failed', above: 1, abve: 2 }] })).join()).toMatch(/abve/);
    expect(problems(def('sometimes')).length).toBeGreaterThan(0);
    expect(problems(def({ conditions: [{ metric: 'failed', above: 1 }] }, { skipIfEmpty: true }))[0]).toMatch(
      /0\.skipIfEmpty: use sendIf alone/,
    );
    expect(
      problems(
        def({ conditions: [{ metric: 'failed', above: 2, baseline: { periods: 3, minPeriods: 5 } }] }),
      )[0],
    ).toMatch(/baseline\.minPeriods: minPeriods \(5\) cannot exceed periods \(3\)/);
  });

  it('a baseline bound is a ratio, so it may exceed 1 on a rate', () => {
    expect(problems(def({ conditions: [{ metric: 'failureRate', above: 2, baseline: {} }] }))).toEqual([]);
  });
});

describe('metric values', () => {
  it('reads the figures the mail shows, rates as shares of the validations', () => {
    const s = summaryOf({ total: 200, failed: 30, highRisk: 12, spoofFailed: 8 });
    expect(metricValue(s, 'validations')).toBe(200);
    expect(metricValue(s, 'failed')).toBe(30);
    expect(metricValue(s, 'failureRate')).toBeCloseTo(30 / 200, 12);
    expect(metricValue(s, 'highRisk')).toBe(12);
    expect(metricValue(s, 'highRiskRate')).toBeCloseTo(12 / 200, 12);
    expect(metricValue(s, 'checkFailRate', 'antiSpoofing')).toBeCloseTo(8 / 200, 12);
  });

  it('a rate of an empty period has no value (not zero)', () => {
    const s = summaryOf({ total: 0 });
    expect(metricValue(s, 'failureRate')).toBeNull();
    expect(metricValue(s, 'checkFailRate', 'antiSpoofing')).toBeNull();
    expect(metricValue(s, 'validations')).toBe(0);
  });

  it('median of an odd and an even count, ignoring missing values', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([null, 7, null])).toBe(7);
    expect(median([])).toBeNull();
  });
});

describe('decide', () => {
  it('always sends; not-empty skips only an empty period', () => {
    expect(decide('always', summaryOf({ total: 0 })).decision).toBe('send');
    expect(decide('not-empty', summaryOf({ total: 0 }))).toMatchObject({
      decision: 'skip',
      reasons: ['no validations in the period'],
    });
    expect(decide('not-empty', summaryOf({ total: 1 })).decision).toBe('send');
  });

  it('a threshold that fires alerts with a sentence; one that does not skips with the figures', () => {
    const r = rule({ conditions: [{ metric: 'failureRate', above: 0.1 }] });
    const fired = decide(r, summaryOf({ total: 100, failed: 15 }));
    expect(fired.decision).toBe('alert');
    expect(fired.reasons).toEqual(['failure rate 15.0% is above 10.0%']);

    const quiet = decide(r, summaryOf({ total: 100, failed: 10 }));
    expect(quiet.decision).toBe('skip');
    expect(quiet.reasons).toEqual(['failure rate 10.0% is at most 10.0%']);
    expect(quiet.figures).toMatchObject({ validations: 100, failed: 10, failureRate: 0.1 });
    expect(describeOutcome(quiet)).toContain('failed=10');
  });

  it('whenMet/otherwise choose the outcomes; below fires under the floor', () => {
    const r = rule({
      conditions: [{ metric: 'validations', below: 50 }],
      whenMet: 'send',
      otherwise: 'send',
    });
    expect(decide(r, summaryOf({ total: 10 })).decision).toBe('send');
    const alertElseSend = rule({ conditions: [{ metric: 'highRisk', above: 3 }], otherwise: 'send' });
    expect(decide(alertElseSend, summaryOf({ total: 10, highRisk: 4 }))).toMatchObject({
      decision: 'alert',
      reasons: ['high-risk validations 4 is above 3'],
    });
    expect(decide(alertElseSend, summaryOf({ total: 10, highRisk: 3 })).decision).toBe('send');
  });

  it('any needs one condition, all needs every one', () => {
    const conditions = [
      { metric: 'failed', above: 5 },
      { metric: 'checkFailRate', check: 'antiSpoofing', above: 0.2 },
    ];
    const s = summaryOf({ total: 100, failed: 6, spoofFailed: 10 });
    expect(decide(rule({ conditions, when: 'any' }), s).decision).toBe('alert');
    expect(decide(rule({ conditions, when: 'all' }), s).decision).toBe('skip');
    const both = summaryOf({ total: 100, failed: 30, spoofFailed: 30 });
    const d = decide(rule({ conditions, when: 'all' }), both);
    expect(d.decision).toBe('alert');
    expect(d.reasons).toHaveLength(2);
    expect(d.reasons[1]).toMatch(/failure rate 30\.0% is above 20\.0%/);
  });

  it('a baseline compares with the median of the previous periods', () => {
    const r = rule({ conditions: [{ metric: 'highRisk', above: 2, baseline: { periods: 7 } }] });
    // Median of 10, 12, 8, 11, 9 is 10: 25 is 2.5× (fires), 19 is 1.9× (does not).
    const history = [10, 12, 8, 11, 9].map((h) => summaryOf({ total: 100, highRisk: h }));
    const fired = decide(r, summaryOf({ total: 100, highRisk: 25 }), history);
    expect(fired.decision).toBe('alert');
    expect(fired.reasons[0]).toBe(
      'high-risk validations 25 is 2.5× the median of the last 5 periods (10); the limit is 2×',
    );
    expect(fired.figures['highRisk:baseline']).toBe(10);
    expect(decide(r, summaryOf({ total: 100, highRisk: 19 }), history).decision).toBe('skip');
  });

  it('reads only the configured number of periods, newest first', () => {
    const r = rule({
      conditions: [{ metric: 'failed', above: 1.5, baseline: { periods: 3, minPeriods: 3 } }],
    });
    // The three newest have a median of 10; the older 100s must be ignored.
    const history = [10, 9, 11, 100, 100].map((f) => summaryOf({ total: 200, failed: f }));
    expect(decide(r, summaryOf({ total: 200, failed: 16 }), history).decision).toBe('alert');
  });

  it('too few stored periods: not evaluated, and says so', () => {
    const r = rule({ conditions: [{ metric: 'failed', above: 2, baseline: { minPeriods: 3 } }] });
    const d = decide(r, summaryOf({ total: 100, failed: 90 }), [summaryOf({ total: 100, failed: 1 })]);
    expect(d.decision).toBe('skip');
    expect(d.reasons[0]).toMatch(/only 1 of the last 7 periods are stored \(3 needed for a baseline\)/);
  });

  it('a zero baseline: anything above zero is above it', () => {
    const r = rule({ conditions: [{ metric: 'highRisk', above: 3, baseline: { minPeriods: 1 } }] });
    const history = [summaryOf({ total: 50 }), summaryOf({ total: 50 })];
    expect(decide(r, summaryOf({ total: 50, highRisk: 1 }), history).decision).toBe('alert');
    expect(decide(r, summaryOf({ total: 50 }), history).decision).toBe('skip');
  });
});
