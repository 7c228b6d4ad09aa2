/**
 * `GET /console/reports/{id}/summary` → the figures the console's report page draws: the
 * per-hour counts, the breakdowns by status, type, client and project, the checks, risk and
 * completion times. Read from the `summary.json` stored beside the manifest (the record keeps
 * only the headline figures), trimmed to what a page shows: no validation ids or identifiers.
 */
import { SUMMARY_FILE } from '../../contract.js';
import { readManifest } from '../../delivery/sink/index.js';
import { getReport } from '../../delivery/state/index.js';
import { fileKey } from '../../runs/files.js';
import type { ApiDeps } from '../deps.js';
import { type HttpResult, json, notFound, validationError } from '../http.js';
import { parseReportId } from '../input.js';

const TOP = 10;

export async function getReportFigures(deps: ApiDeps, id: string | undefined): Promise<HttpResult> {
  const parsed = parseReportId(id);
  if (!parsed.ok) return validationError(parsed.errors);
  const record = await getReport(deps.doc, deps.config.STATE_TABLE, parsed.value);
  if (!record) return notFound(`No report ${parsed.value}.`);
  if (record.status !== 'complete' || !record.manifestKey)
    return notFound('This report has no figures yet: it is not complete.');
  let s: Record<string, unknown>;
  try {
    s = (await readManifest(
      deps.s3,
      deps.config.REPORTS_BUCKET,
      fileKey(record.manifestKey, SUMMARY_FILE),
    )) as Record<string, unknown>;
  } catch {
    return notFound('The figures of this report are no longer stored (reports are kept for a limited time).');
  }
  const top = (v: unknown) => (Array.isArray(v) ? v.slice(0, TOP) : []);
  const risk = s.risk as { buckets?: unknown } | undefined;
  return json(200, {
    id: record.id,
    timeZone: s.timeZone,
    totals: s.totals,
    byHour: s.byHour,
    byStatus: s.byStatus,
    byType: s.byType,
    byClient: top(s.byClient),
    byProject: top(s.byProject),
    checks: s.checks,
    riskBuckets: risk?.buckets,
    completion: s.completion,
  });
}
