/** What the API shows of a stored report: its public request, its manifest, its files' save-as names. */
import { downloadName } from '../core/naming.js';
import { readManifest } from '../delivery/sink/index.js';
import type { ReportRecord } from '../delivery/state/index.js';
import { Manifest } from '../report/manifest.js';
import { reportWindow } from '../time/window.js';
import type { ApiDeps } from './deps.js';

export function publicRequest(record: ReportRecord): Record<string, unknown> {
  // Recipients are the caller's business, not something to echo to every reader of the status.
  const { notify: _notify, ...rest } = record.request;
  return rest;
}

/** The manifest of a complete report; null while it is not complete. */
export async function manifestOf(deps: ApiDeps, record: ReportRecord): Promise<Manifest | null> {
  if (record.status !== 'complete' || !record.manifestKey) return null;
  return Manifest.parse(await readManifest(deps.s3, deps.config.REPORTS_BUCKET, record.manifestKey));
}

/** The name a browser saves the file as, e.g. `verifik-daily-ops-2024-12-01-validations.xlsx`. */
export function saveAs(record: ReportRecord, file: string): string | undefined {
  const r = record.request as { definition?: unknown; from?: unknown; to?: unknown; timeZone?: unknown };
  try {
    const window = reportWindow(String(r.from), String(r.to), String(r.timeZone));
    return downloadName(
      { definition: typeof r.definition === 'string' ? r.definition : 'report', window },
      file,
    );
  } catch {
    return undefined;
  }
}
