/**
 * The report mail's figures (delivery/mail/report-figures.ts) for small summaries whose every
 * number can be checked by hand: what the HTML and the text body both print.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { figuresOf } from '../../functions/delivery/mail/report-figures.js';
import { compareSummaries, type Summary, SummaryBuilder } from '../../functions/report/summary.js';
import type { BiometricValidation } from '../../functions/verifik/schema.js';

function summarise(records: BiometricValidation[]): Summary {
  const b = new SummaryBuilder({ timeZone: 'UTC' });
  for (const r of records) b.add(r);
  return b.result();
}

const at = (hhmm: string) => `2024-12-01T${hhmm}:00.000Z`;
const CURRENT: BiometricValidation[] = [
  {
    _id: 'r1',
    status: 'completed',
    createdAt: at('10:00'),
    client: { _id: 'c1', name: 'Acme\u001b[2J' },
    riskScore: 0.9,
    verificationResults: { identityMatch: 'passed' },
  },
  {
    _id: 'r2',
    status: 'failed',
    createdAt: at('10:30'),
    client: 'c1',
    verificationResults: { identityMatch: 'failed' },
  },
  {
    _id: 'r3',
    status: 'completed',
    createdAt: at('11:00'),
    client: { _id: 'c2', name: null },
    verificationResults: { identityMatch: 'passed' },
  },
  { _id: 'r4', status: 'pend\ning', createdAt: at('23:00') },
];
const PREVIOUS: BiometricValidation[] = [
  { ...(CURRENT[0] as BiometricValidation), _id: 'p1' },
  { _id: 'p2', status: 'expired', createdAt: at('09:00') },
];

describe('report mail figures', () => {
  // Built before each test, not at collection nor in beforeAll: Stryker's vitest setup attributes
  // coverage to a test only between beforeEach and afterEach; code run earlier is "static" to it, and
  // its mutants are not active in these tests (README "Mutation testing").
  let f: ReturnType<typeof figuresOf>;
  beforeEach(() => {
    f = figuresOf(summarise(CURRENT), null);
  });

  it('headline: validations, failed with its share of all validations, high risk with its threshold', () => {
    expect(f.headline).toEqual([
      { label: 'Validations', value: '4' },
      { label: 'Failed (status or a failed check)', value: '1 (25.0%)' },
      { label: 'High risk (score ≥ 0.7)', value: '1' },
    ]);
  });

  it('statuses by count with their share, control characters taken out of the names', () => {
    expect(f.statuses).toEqual([
      { key: 'completed', count: '2', share: '50.0%' },
      { key: 'failed', count: '1', share: '25.0%' },
      { key: 'pend ing', count: '1', share: '25.0%' },
    ]);
  });

  it('checks: counts and pass rate = passed ÷ validations that have the check, n/a when none has it', () => {
    expect(f.checks).toEqual([
      { label: 'Liveness detection', passed: '0', failed: '0', missing: '4', passRate: 'n/a' },
      { label: 'Identity match', passed: '2', failed: '1', missing: '1', passRate: '66.7%' },
      { label: 'Anti-spoofing', passed: '0', failed: '0', missing: '4', passRate: 'n/a' },
    ]);
  });

  it('clients: the name, else the id, else "(no client)"; hours: all 24, zero where nothing happened', () => {
    expect(f.clients).toEqual([
      { name: 'Acme [2J', count: '2', failed: '1', highRisk: '1' },
      { name: 'c2', count: '1', failed: '0', highRisk: '0' },
      { name: '(no client)', count: '1', failed: '0', highRisk: '0' },
    ]);
    expect(f.moreClients).toBe(0);
    expect(f.hours).toHaveLength(24);
    expect(f.hours.filter((h) => h.count > 0)).toEqual([
      { hour: 10, count: 2 },
      { hour: 11, count: 1 },
      { hour: 23, count: 1 },
    ]);
    expect(f.hours.map((h) => h.hour)).toEqual(Array.from({ length: 24 }, (_, i) => i));
    expect(f.deltas).toEqual([]);
  });

  it('a validation with no client reference is listed as "(no client)"', () => {
    // Built in the test itself: Stryker counts what beforeAll runs as no test's coverage, so the
    // shared figures above would not run this label's mutants.
    const noClient = CURRENT.filter((r) => r.client === undefined);
    expect(noClient).toHaveLength(1);
    expect(figuresOf(summarise(noClient), null).clients).toEqual([
      { name: '(no client)', count: '1', failed: '0', highRisk: '0' },
    ]);
  });

  it('shows the five largest clients and counts the rest', () => {
    const many = Array.from({ length: 7 }, (_, i) => ({
      _id: `m${i}`,
      status: 'completed',
      createdAt: at('12:00'),
      client: `client-${i}`,
    }));
    const g = figuresOf(summarise(many), null);
    expect(g.clients.map((c) => c.name)).toEqual([
      'client-0',
      'client-1',
      'client-2',
      'client-3',
      'client-4',
    ]);
    expect(g.moreClients).toBe(2);
    expect(figuresOf(summarise(many.slice(0, 5)), null).moreClients).toBe(0);
  });

  it('changes since the previous report: signed counts with the relative change, rates in points', () => {
    const current = summarise(CURRENT);
    const g = figuresOf(current, compareSummaries(current, summarise(PREVIOUS)));
    expect(g.deltas).toEqual([
      { label: 'Validations', current: '4', previous: '2', change: '+2 (+100.0%)' },
      // From 0 there is no relative change to show.
      { label: 'Failed', current: '1', previous: '0', change: '+1' },
      { label: 'High risk', current: '1', previous: '1', change: '±0 (±0%)' },
      { label: 'Status completed', current: '2', previous: '1', change: '+1 (+100.0%)' },
      { label: 'Status failed', current: '1', previous: '0', change: '+1' },
      { label: 'Status pend ing', current: '1', previous: '0', change: '+1' },
      { label: 'Status expired', current: '0', previous: '1', change: '−1 (−100.0%)' },
      // Checks no validation had on either side have no line.
      { label: 'Identity match pass rate', current: '66.7%', previous: '100.0%', change: '−33.3 pts' },
    ]);
  });

  it('an hour the summary has no entry for shows 0', () => {
    const summary = { ...summarise(CURRENT), byHour: [{ hour: 10, count: 2, failed: 1 }] };
    const g = figuresOf(summary, null);
    expect(g.hours.map((h) => h.count)).toEqual(Array.from({ length: 24 }, (_, i) => (i === 10 ? 2 : 0)));
  });
});
