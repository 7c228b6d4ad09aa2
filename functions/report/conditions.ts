/**
 * Evaluates a definition's `sendIf` against a period's summary (and, for baselines, the summaries
 * of the periods before it): pure, so every outcome is tested without a server.
 *
 * The outcome carries sentences, not codes: they go verbatim to the top of an alert mail, into
 * the delivery log of a skipped period, and into chat messages, where people read them.
 */
import type { Condition, ConditionMetric, SendIf } from '../settings/conditions.js';
import { CHECK_LABELS } from './columns.js';
import type { Summary } from './summary.js';

export type Decision = 'send' | 'skip' | 'alert';

export interface ConditionOutcome {
  decision: Decision;
  /** One sentence per condition that held (alert/send) or, for a skip, why nothing held. */
  reasons: string[];
  /** The figures the decision read, for the log of a skipped period. */
  figures: Record<string, number | null>;
}

/** A figure of a summary, or null when it has no value (a rate of an empty period). */
export function metricValue(summary: Summary, metric: ConditionMetric, check?: string): number | null {
  const t = summary.totals;
  switch (metric) {
    case 'validations':
      return t.validations;
    case 'failed':
      return t.failed;
    case 'highRisk':
      return t.highRisk;
    case 'failureRate':
      return t.validations === 0 ? null : t.failed / t.validations;
    case 'highRiskRate':
      return t.validations === 0 ? null : t.highRisk / t.validations;
    case 'checkFailRate': {
      const c = check ? summary.checks[check as keyof Summary['checks']] : undefined;
      return c ? c.failRate : null;
    }
  }
}

/** The median of the values that exist; null when none does. */
export function median(values: readonly (number | null)[]): number | null {
  const xs = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  if (xs.length === 0) return null;
  const mid = xs.length >> 1;
  return xs.length % 2 === 1 ? (xs[mid] as number) : ((xs[mid - 1] as number) + (xs[mid] as number)) / 2;
}

const RATES = new Set<ConditionMetric>(['failureRate', 'highRiskRate', 'checkFailRate']);

function metricName(c: Condition): string {
  switch (c.metric) {
    case 'validations':
      return 'validations';
    case 'failed':
      return 'failed validations';
    case 'failureRate':
      return 'failure rate';
    case 'highRisk':
      return 'high-risk validations';
    case 'highRiskRate':
      return 'high-risk share';
    case 'checkFailRate':
      return `${c.check ? (CHECK_LABELS[c.check] ?? c.check) : 'check'} failure rate`;
  }
}

function show(metric: ConditionMetric, v: number): string {
  if (RATES.has(metric)) return `${(v * 100).toFixed(1)}%`;
  return Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(2);
}

function ratio(r: number): string {
  return `${r.toFixed(2).replace(/\.?0+$/, '')}×`;
}

interface Checked {
  held: boolean;
  /** Why it held, or why it did not (or could not be evaluated). */
  sentence: string;
  value: number | null;
  baseline?: number | null;
}

function checkOne(c: Condition, summary: Summary, history: readonly Summary[]): Checked {
  const name = metricName(c);
  const value = metricValue(summary, c.metric, c.check);
  if (value === null) return { held: false, sentence: `${name} has no value this period`, value };
  if (!c.baseline) {
    if (c.above !== undefined && value > c.above)
      return {
        held: true,
        sentence: `${name} ${show(c.metric, value)} is above ${show(c.metric, c.above)}`,
        value,
      };
    if (c.below !== undefined && value < c.below)
      return {
        held: true,
        sentence: `${name} ${show(c.metric, value)} is below ${show(c.metric, c.below)}`,
        value,
      };
    const bounds = [
      c.above !== undefined ? `at most ${show(c.metric, c.above)}` : null,
      c.below !== undefined ? `at least ${show(c.metric, c.below)}` : null,
    ].filter(Boolean);
    return { held: false, sentence: `${name} ${show(c.metric, value)} is ${bounds.join(' and ')}`, value };
  }
  const past = history.slice(0, c.baseline.periods);
  const values = past.map((s) => metricValue(s, c.metric, c.check));
  const known = values.filter((v) => v !== null).length;
  if (known < c.baseline.minPeriods)
    return {
      held: false,
      sentence: `${name}: only ${known} of the last ${c.baseline.periods} periods are stored (${c.baseline.minPeriods} needed for a baseline), not evaluated`,
      value,
      baseline: null,
    };
  const base = median(values) as number;
  const of = `the median of the last ${known} periods (${show(c.metric, base)})`;
  // A zero baseline makes every ratio infinite or undefined: any value above zero is "above".
  const r = base === 0 ? (value === 0 ? 1 : Number.POSITIVE_INFINITY) : value / base;
  const shown = Number.isFinite(r) ? ratio(r) : 'above zero, against a baseline of zero,';
  if (c.above !== undefined && r > c.above)
    return {
      held: true,
      sentence: `${name} ${show(c.metric, value)} is ${shown} ${of}; the limit is ${ratio(c.above)}`,
      value,
      baseline: base,
    };
  if (c.below !== undefined && r < c.below)
    return {
      held: true,
      sentence: `${name} ${show(c.metric, value)} is ${shown} ${of}; the floor is ${ratio(c.below)}`,
      value,
      baseline: base,
    };
  return {
    held: false,
    sentence: `${name} ${show(c.metric, value)} is ${shown} ${of}`,
    value,
    baseline: base,
  };
}

/**
 * What to do with a period's report. `history` is the previous periods' summaries, newest first
 * (only read when a condition has a baseline).
 */
export function decide(sendIf: SendIf, summary: Summary, history: readonly Summary[] = []): ConditionOutcome {
  const empty = summary.totals.validations === 0;
  const figures: Record<string, number | null> = {
    validations: summary.totals.validations,
    failed: summary.totals.failed,
    failureRate: metricValue(summary, 'failureRate'),
    highRisk: summary.totals.highRisk,
  };
  if (sendIf === 'always') return { decision: 'send', reasons: [], figures };
  if (sendIf === 'not-empty')
    return empty
      ? { decision: 'skip', reasons: ['no validations in the period'], figures }
      : { decision: 'send', reasons: [], figures };

  const checked = sendIf.conditions.map((c) => checkOne(c, summary, history));
  sendIf.conditions.forEach((c, i) => {
    const k = c.metric === 'checkFailRate' ? `${c.metric}:${c.check}` : c.metric;
    const one = checked[i] as Checked;
    figures[k] = one.value;
    if (one.baseline !== undefined) figures[`${k}:baseline`] = one.baseline;
  });
  const held = sendIf.when === 'all' ? checked.every((c) => c.held) : checked.some((c) => c.held);
  if (held)
    return {
      decision: sendIf.whenMet,
      reasons: checked.filter((c) => c.held).map((c) => c.sentence),
      figures,
    };
  const decision = sendIf.otherwise;
  return { decision, reasons: checked.map((c) => c.sentence), figures };
}

/** One line for the delivery log: the decision, its sentences and the figures it read. */
export function describeOutcome(o: ConditionOutcome): string {
  const figures = Object.entries(o.figures)
    .map(([k, v]) => `${k}=${v === null ? 'none' : Number.isInteger(v) ? v : v.toFixed(4)}`)
    .join(', ');
  return `${o.decision}: ${o.reasons.join('; ') || 'no condition'} (${figures})`;
}
