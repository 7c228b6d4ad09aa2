/**
 * Composes the mail for a finished report: the "no validations" mail for an empty one,
 * otherwise the report mail with its files attached when they fit the budget (else links only).
 * Independent of where the files live and how links are made, so the Lambda handlers and the
 * CLI (`--mail-to`) compose the same mail.
 */
import { ReportsError } from '../../errors/kinds.js';
import { fileChecksum, type ManifestFile } from '../../report/manifest.js';
import type { Summary, SummaryDelta } from '../../report/summary.js';
import type { ReportWindow } from '../../time/window.js';
import { renderEmptyMail } from './empty-mail.js';
import type { RenderedMail } from './html.js';
import { type AttachmentDecision, type MailLink, renderReportMail } from './report-mail.js';
import { decideAttachments, type MailAttachment } from './send.js';

export class AttachmentMismatchError extends ReportsError {
  override readonly kind = 'output';
  override name = 'AttachmentMismatchError';
}

export interface ComposeReportMailInput {
  /** What the subject calls the report: the definition name, or "on-demand". */
  label: string;
  /** What was asked for (the core's ReportRequest fits). */
  request: {
    window: Pick<ReportWindow, 'from' | 'to' | 'timeZone'>;
    statuses: string[];
    types: string[];
    clients: string[];
    projects?: string[] | undefined;
  };
  /** What was made (the core's ReportResult fits). */
  result: {
    summary: Summary;
    delta: SummaryDelta | null;
    files: readonly (ManifestFile & { contentType: string })[];
    manifest: { generatedAt: string };
  };
  reportId: string;
  links: MailLink[];
  linksExpireAt: Date;
  /** Base64-encoded size all attachments together may take. */
  budgetBytes: number;
  /** The stored bytes of a report file; checked against the manifest's SHA-256 before attaching. */
  readFile(name: string): Promise<Buffer>;
  /** File name people see for an attachment (e.g. with the date in it). */
  attachmentName?(name: string): string;
  now: Date;
  /** The conditions that held, when the definition sends this report as an alert. */
  alert?: readonly string[] | undefined;
}

export interface ComposedReportMail {
  mail: RenderedMail;
  attachments: MailAttachment[];
  decision: AttachmentDecision | null;
}

export async function composeReportMail(input: ComposeReportMailInput): Promise<ComposedReportMail> {
  const { result, request } = input;
  const window = request.window;
  if (result.summary.totals.validations === 0) {
    return {
      mail: renderEmptyMail({
        definition: input.label,
        window,
        filters: {
          statuses: request.statuses,
          types: request.types,
          clients: request.clients,
          projects: request.projects,
        },
        generatedAt: input.now,
        reportId: input.reportId,
        alert: input.alert,
      }),
      attachments: [],
      decision: null,
    };
  }
  const decision = decideAttachments(
    result.files.map((f) => f.bytes),
    input.budgetBytes,
  );
  const attachments: MailAttachment[] = [];
  if (decision.mode === 'attached') {
    for (const f of result.files) {
      const content = await input.readFile(f.name);
      // Attach exactly what the manifest describes, or fail: a mail must not disagree with its links.
      // A file assembled in S3 from a long report's slices carries S3's composite checksum.
      if (fileChecksum(content, f) !== f.sha256) {
        throw new AttachmentMismatchError(`${f.name} as stored does not match its manifest checksum`);
      }
      attachments.push({
        filename: input.attachmentName ? input.attachmentName(f.name) : f.name,
        contentType: f.contentType,
        content,
      });
    }
  }
  const mail = renderReportMail({
    definition: input.label,
    window,
    summary: result.summary,
    delta: result.delta,
    links: input.links,
    attachments: decision,
    linksExpireAt: input.linksExpireAt,
    generatedAt: new Date(result.manifest.generatedAt),
    reportId: input.reportId,
    alert: input.alert,
  });
  return { mail, attachments, decision };
}
