/**
 * The report mail's figures, formatted once and read by both the HTML and the text body, so
 * both always say the same thing. Names and statuses come from Verifik: control characters are
 * taken out here (plainText), so neither body carries escape sequences or forged lines.
 */

import { CHECK_KEYS, CHECK_LABELS } from '../../report/columns.js';
import type { Change, Summary, SummaryDelta } from '../../report/summary.js';
import { formatCount, formatRate, plainText, share, signed } from './html.js';

const TOP_CLIENTS = 5;

interface DeltaLine {
  label: string;
  current: string;
  previous: string;
  change: string;
}

export interface Figures {
  headline: { label: string; value: string }[];
  statuses: { key: string; count: string; share: string }[];
  checks: { label: string; passed: string; failed: string; missing: string; passRate: string }[];
  clients: { name: string; count: string; failed: string; highRisk: string }[];
  moreClients: number;
  hours: { hour: number; count: number }[];
  deltas: DeltaLine[];
}

function clientLabel(c: { id: string | null; name: string | null }): string {
  return plainText(c.name ?? c.id ?? '(no client)');
}

function countDelta(label: string, c: Change): DeltaLine | null {
  // Stryker disable next-line ConditionalExpression,LogicalOperator: change() makes delta null exactly when a side is, so any one of the three decides; all three narrow the types
  if (c.current === null || c.previous === null || c.delta === null) return null;
  const rel = c.relative === null ? '' : ` (${signed(c.relative * 100, 1)}%)`;
  return {
    label,
    current: formatCount(c.current),
    previous: formatCount(c.previous),
    change: `${signed(c.delta)}${rel}`,
  };
}

function rateDelta(label: string, c: Change): DeltaLine | null {
  // Stryker disable next-line ConditionalExpression,LogicalOperator: change() makes delta null exactly when a side is, so any one of the three decides; all three narrow the types
  if (c.current === null || c.previous === null || c.delta === null) return null;
  return {
    label,
    current: formatRate(c.current),
    previous: formatRate(c.previous),
    change: `${signed(c.delta * 100, 1)} pts`,
  };
}

export function figuresOf(summary: Summary, delta: SummaryDelta | null): Figures {
  const t = summary.totals;
  const headline = [
    { label: 'Validations', value: formatCount(t.validations) },
    {
      label: 'Failed (status or a failed check)',
      value: `${formatCount(t.failed)} (${formatRate(share(t.failed, t.validations))})`,
    },
    { label: `High risk (score ≥ ${summary.risk.thresholds.high})`, value: formatCount(t.highRisk) },
  ];
  const statuses = summary.byStatus.map((s) => ({
    key: plainText(s.key),
    count: formatCount(s.count),
    share: formatRate(s.share),
  }));
  const checks = CHECK_KEYS.map((key) => {
    const c = summary.checks[key];
    return {
      label: CHECK_LABELS[key],
      passed: formatCount(c.passed),
      failed: formatCount(c.failed),
      missing: formatCount(c.missing),
      passRate: formatRate(c.passRate),
    };
  });
  const clients = summary.byClient.slice(0, TOP_CLIENTS).map((c) => ({
    name: clientLabel(c),
    count: formatCount(c.count),
    failed: formatCount(c.failed),
    highRisk: formatCount(c.highRisk),
  }));
  const hours = Array.from({ length: 24 }, (_, hour) => ({
    hour,
    count: summary.byHour.find((h) => h.hour === hour)?.count ?? 0,
  }));
  const deltas: DeltaLine[] = [];
  if (delta) {
    const lines = [
      countDelta('Validations', delta.validations),
      countDelta('Failed', delta.failed),
      countDelta('High risk', delta.highRisk),
      ...delta.byStatus.map((s) => countDelta(`Status ${plainText(s.key)}`, s)),
      ...CHECK_KEYS.map((key) => rateDelta(`${CHECK_LABELS[key]} pass rate`, delta.passRates[key])),
    ];
    for (const l of lines) if (l) deltas.push(l);
  }
  return {
    headline,
    statuses,
    checks,
    clients,
    moreClients: Math.max(0, summary.byClient.length - TOP_CLIENTS),
    hours,
    deltas,
  };
}
