/**
 * What a report is asked to be and what it becomes: the types every caller of the pipeline
 * (runs, the CLI, the API) and the pipeline itself share, kept apart from the pipeline so that
 * naming or recording a request never loads the renderers.
 */

import type { Manifest, ManifestFile } from '../report/manifest.js';
import type { Summary, SummaryDelta } from '../report/summary.js';
import type { ReportFormat } from '../settings/definitions.js';
import type { ReportWindow } from '../time/window.js';

export interface ReportRequest {
  /** Definition name, or 'on-demand' / 'cli'; part of the report id and the S3 key. */
  definition: string;
  window: ReportWindow;
  /** Empty arrays mean "all". */
  statuses: string[];
  types: string[];
  clients: string[];
  /** Only these projects' validations (a project scope); filtered locally, absent means all. */
  projects?: string[];
  formats: ReportFormat[];
}

/** A stored file as the manifest lists it, plus the content type it was stored with. */
export type ReportFile = ManifestFile & { contentType: string };

export interface ReportResult {
  id: string;
  manifest: Manifest;
  summary: Summary;
  delta: SummaryDelta | null;
  files: ReportFile[];
  /** Where the sink put it (directory or s3:// URL). */
  location: string;
}

export interface ReadTuning {
  perPage?: number;
  concurrency?: number;
  partitionByStatus?: boolean;
}
