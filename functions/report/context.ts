/**
 * Everything a renderer needs to know about a report besides its rows: what it covers, how it
 * was asked for, when it was made, what the summary says and what the data layer noticed.
 */
import type { ReportWindow } from '../time/window.js';
import type { Summary, SummaryDelta } from './summary.js';

/** The filters a report was asked for; absent means "all". */
export interface ReportFilters {
  statuses?: readonly string[];
  types?: readonly string[];
  clients?: readonly string[];
  /** A project scope (splitBy project): the API has no project filter, so it is applied locally. */
  projects?: readonly string[];
}

export interface ReportContext {
  id: string;
  window: ReportWindow;
  filters: ReportFilters;
  generatedAt: Date;
  summary: Summary;
  /** Comparison with the previous report of the same definition, when there is one. */
  previous?: SummaryDelta;
  /** Data-layer notes shown on the Summary sheet and kept in the manifest (pages, dropped records…). */
  diagnostics: Record<string, number | string>;
}

/** "status=failed,expired; client=abc" — or "none" — for sheets and notes. */
export function describeFilters(filters: ReportFilters): string {
  const parts: string[] = [];
  const add = (label: string, values: readonly string[] | undefined) => {
    if (values && values.length > 0) parts.push(`${label} = ${values.join(', ')}`);
  };
  add('status', filters.statuses);
  add('type', filters.types);
  add('client', filters.clients);
  add('project', filters.projects);
  return parts.length === 0 ? 'none (all validations)' : parts.join('; ');
}
