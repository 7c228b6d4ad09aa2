/**
 * What a chat or webhook destination is told about one report: the same facts for Slack, Teams
 * and the generic webhook, each builder only deciding the format. Built by runs/ from a produced
 * report (runs/destination-message.ts); delivery/ reads no settings.
 */

export interface DestinationMessage {
  /** The definition's name. */
  definition: string;
  /** The period reported: a day `2026-11-26`, a week or a month key (time/period.ts). */
  periodKey: string;
  /** First and last calendar day, inclusive, in `timeZone`. */
  window: { from: string; to: string; timeZone: string };
  reportId: string;
  /** A scoped report (splitBy): whose rows it holds. */
  scope?: { by: 'project' | 'client'; key: string };
  /** No validations in the period. */
  empty: boolean;
  headline: {
    validations: number;
    failed: number;
    /** failed / validations, 0..1; null when there were none. */
    failureRate: number | null;
    highRisk: number;
    byStatus: { key: string; count: number }[];
  };
  /** Signed links to the report's files (our API, not S3). */
  links: { name: string; url: string; bytes: number; expiresAt: string }[];
  /** Sent as an alert (sendIf): what fired, shown first. */
  alert?: { title: string; conditions: string[] };
}

/** The message's title: definition, scope and period (all three may reach a channel's preview). */
export function titleOf(m: DestinationMessage): string {
  const scope = m.scope ? ` · ${m.scope.by} ${m.scope.key}` : '';
  return `${m.alert ? 'ALERT: ' : ''}${m.definition}${scope} — ${m.periodKey}`;
}

export function periodLine(m: DestinationMessage): string {
  const days = m.window.from === m.window.to ? m.window.from : `${m.window.from} to ${m.window.to}`;
  return `${days} (${m.window.timeZone})`;
}

export function percent(rate: number | null): string {
  return rate === null ? '—' : `${(rate * 100).toFixed(1)} %`;
}

export function count(n: number): string {
  return n.toLocaleString('en-US');
}

export function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** The headline figures as label/value pairs, in the order every format shows them. */
export function headlineFacts(m: DestinationMessage): [string, string][] {
  return [
    ['Validations', count(m.headline.validations)],
    ['Failed', count(m.headline.failed)],
    ['Failure rate', percent(m.headline.failureRate)],
    ['High risk', count(m.headline.highRisk)],
  ];
}

/** At most this many statuses are listed; the rest are summed as "other" (a chat message is a glance). */
export const MAX_STATUSES = 8;

export function statusLines(m: DestinationMessage): { key: string; count: number }[] {
  const sorted = [...m.headline.byStatus].sort((a, b) => b.count - a.count);
  if (sorted.length <= MAX_STATUSES) return sorted;
  const rest = sorted.slice(MAX_STATUSES - 1).reduce((s, x) => s + x.count, 0);
  return [...sorted.slice(0, MAX_STATUSES - 1), { key: 'other', count: rest }];
}
