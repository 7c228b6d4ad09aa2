/**
 * How reports are named: ids and download file names. Kept apart from the pipeline so the API
 * function can name reports without bundling the renderers (exceljs).
 */
import { randomBytes } from 'node:crypto';
import { scopeReportName } from '../settings/scopes.js';
import type { ReportWindow } from '../time/window.js';
import type { ReportRequest } from './request.js';

/** What names a report: its definition and its days. */
export interface ReportNaming {
  definition: string;
  window: Pick<ReportWindow, 'from' | 'to'>;
}

/** Url-safe, unique and sortable by creation time: `<definition>-<from>[--<to>]-<yyyymmddThhmmss>-<rand>`. */
export function newReportId(request: ReportNaming, now: Date): string {
  const { from, to } = request.window;
  const stamp = now.toISOString().replace(/[-:]/g, '').slice(0, 15);
  const days = from === to ? from : `${from}--${to}`;
  return `${request.definition}-${days}-${stamp}-${randomBytes(3).toString('hex')}`;
}

/**
 * The name offered on download: says which report, which days and which file, e.g.
 * `verifik-daily-ops-2024-12-01-validations.xlsx` (`…-2024-12-01_2024-12-07-…` for a range).
 */
export function downloadName(request: ReportNaming, file: string): string {
  const { from, to } = request.window;
  const days = from === to ? from : `${from}_${to}`;
  return `verifik-${request.definition}-${days}-${file}`;
}

/**
 * The request of one scope of a split report: the definition's window, filters and formats, named
 * `<definition>--<scope>` and narrowed to the scope's project or client. One rule for the
 * scheduled split run and the CLI's --split-by, so both store and filter a scope alike.
 */
export function scopeRequest(
  request: ReportRequest,
  by: 'project' | 'client',
  scope: { name: string; id: string },
): ReportRequest {
  return {
    ...request,
    definition: scopeReportName(request.definition, scope.name),
    ...(by === 'project' ? { projects: [scope.id] } : { clients: [scope.id] }),
  };
}
