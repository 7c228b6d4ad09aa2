/** The CLI's I/O half: wires the real adapters (Verifik client, a sink, SES) around the pipeline. */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { REPORTS_PREFIX, VERIFIK_API_URL } from '../contract.js';
import { downloadName, newReportId } from '../core/naming.js';
import { type ReportRequest, type ReportResult, runReport } from '../core/pipeline.js';
import { createS3Client, createSesClient } from '../delivery/aws-clients.js';
import { presignDownload } from '../delivery/links.js';
import { composeReportMail } from '../delivery/mail/compose.js';
import { checkRecipients, sendMail } from '../delivery/mail/send.js';
import { createLocalSink, findPreviousLocalSummary } from '../delivery/sink/local.js';
import type { ReportSink } from '../delivery/sink/port.js';
import { createS3Sink, type S3ReportSink } from '../delivery/sink/s3.js';
import { manifestFilters } from '../report/manifest.js';
import { ConfigError, loadMailSettings, type MailSettings } from '../settings/config.js';
import { reportWindow } from '../time/window.js';
import { createVerifikClient } from '../verifik/client.js';
import type { ReadProgress } from '../verifik/paginate.js';
import { CliConfigError } from './errors.js';
import type { CliIo, CliOptions } from './main.js';

/** SigV4 presigned URLs cannot outlive 7 days; links in CLI mails are presigned S3 URLs. */
const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

interface MailSetup {
  from: string;
  allowedDomains: string[];
  to: string[];
  budgetBytes: number;
  linkSeconds: number;
  configurationSet: string | undefined;
}

/** Checked before any work, so a mail that could never be sent does not cost a report run. */
function mailSetup(options: CliOptions, env: NodeJS.ProcessEnv): MailSetup | null {
  if (options.mailTo.length === 0) return null;
  // The functions' own rules: MAIL_FROM and ALLOWED_RECIPIENT_DOMAINS required, numbers positive.
  let settings: MailSettings;
  try {
    settings = loadMailSettings(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const problems = err.problems.map((p) => `${p.variable}: ${p.message}`).join('; ');
    throw new CliConfigError(`--mail-to needs its mail settings in the environment (${problems}).`);
  }
  return {
    from: settings.MAIL_FROM,
    allowedDomains: settings.ALLOWED_RECIPIENT_DOMAINS,
    to: checkRecipients(options.mailTo, settings.ALLOWED_RECIPIENT_DOMAINS),
    budgetBytes: settings.ATTACHMENT_BUDGET_BYTES,
    linkSeconds: Math.min(settings.LINK_TTL_SECONDS, MAX_PRESIGN_SECONDS),
    configurationSet: settings.SES_CONFIGURATION_SET,
  };
}

export async function executeCliReport(
  options: CliOptions,
  { token, io }: { token: string; io: CliIo },
): Promise<ReportResult> {
  const request: ReportRequest = {
    definition: options.definition,
    window: reportWindow(options.from, options.to, options.timeZone),
    statuses: options.statuses,
    types: options.types,
    clients: options.clients,
    formats: options.formats,
  };
  const mail = mailSetup(options, io.env);
  const verifik = createVerifikClient({ baseUrl: io.env.VERIFIK_BASE_URL ?? VERIFIK_API_URL, token });
  const reportId = newReportId(request, io.now());
  const s3 = options.bucket ? createS3Client() : null;
  const sink: ReportSink | S3ReportSink =
    s3 && options.bucket
      ? createS3Sink({
          s3,
          bucket: options.bucket,
          prefix: io.env.REPORTS_PREFIX ?? REPORTS_PREFIX,
          definition: request.definition,
          window: request.window,
          reportId,
        })
      : createLocalSink({ dir: options.out, reportId });

  // Deltas against the previous local report; S3 reports get theirs in the Lambdas.
  const previous = options.bucket
    ? null
    : await findPreviousLocalSummary({
        dir: options.out,
        definition: request.definition,
        day: request.window.from,
        timeZone: request.window.timeZone,
        filters: manifestFilters(request),
      });
  const progress = progressLine(io.stderr);
  let result: ReportResult;
  try {
    result = await runReport({
      request,
      reportId,
      verifik,
      sink,
      previous,
      onProgress: progress.update,
      read: { concurrency: options.concurrency },
    });
  } finally {
    progress.done();
  }
  if (!options.json) io.stdout.write(humanSummary(result));
  if (mail && s3 && 'keyOf' in sink) {
    const messageId = await mailReport({ request, result, sink, s3, mail, now: io.now() });
    if (!options.json) io.stdout.write(`  mailed to  ${mail.to.join(', ')} (SES message ${messageId})\n`);
  }
  return result;
}

async function mailReport(input: {
  request: ReportRequest;
  result: ReportResult;
  sink: S3ReportSink;
  s3: S3Client;
  mail: MailSetup;
  now: Date;
}): Promise<string> {
  const { request, result, sink, s3, mail, now } = input;
  const links = await Promise.all(
    result.files.map(async (f) => ({
      name: f.name,
      bytes: f.bytes,
      url: await presignDownload(s3, sink.bucket, sink.keyOf(f.name), {
        expiresInSeconds: mail.linkSeconds,
        downloadName: downloadName(request, f.name),
      }),
    })),
  );
  const composed = await composeReportMail({
    label: request.definition,
    request,
    result,
    reportId: result.id,
    links,
    linksExpireAt: new Date(now.getTime() + mail.linkSeconds * 1000),
    budgetBytes: mail.budgetBytes,
    readFile: async (name) => {
      const object = await s3.send(new GetObjectCommand({ Bucket: sink.bucket, Key: sink.keyOf(name) }));
      return Buffer.from(await object.Body!.transformToByteArray());
    },
    attachmentName: (name) => downloadName(request, name),
    now,
  });
  return sendMail({
    ses: createSesClient(),
    from: mail.from,
    to: mail.to,
    allowedDomains: mail.allowedDomains,
    mail: composed.mail,
    attachments: composed.attachments,
    configurationSet: mail.configurationSet,
    headers: { 'X-Verifik-Report-Id': result.id },
  });
}

/** "pages 12 · 5,400 records · 3,210/s", redrawn in place on a terminal, silent otherwise. */
function progressLine(out: CliIo['stderr']) {
  let last = 0;
  let drawn = false;
  return {
    update: (p: ReadProgress) => {
      if (!out.isTTY) return;
      const now = Date.now();
      if (now - last < 200) return;
      last = now;
      drawn = true;
      const rate = p.elapsedMs > 0 ? Math.round((p.records * 1000) / p.elapsedMs) : 0;
      out.write(
        `\r\x1b[Kpages ${p.pages} · ${p.records.toLocaleString('en-US')} records · ${rate.toLocaleString('en-US')}/s`,
      );
    },
    done: () => {
      if (drawn) out.write('\r\x1b[K');
    },
  };
}

function humanSummary(result: ReportResult): string {
  const { manifest, summary } = result;
  const w = manifest.window;
  const n = (x: number) => x.toLocaleString('en-US');
  const lines = [
    `Report ${result.id}`,
    `  window      ${w.from === w.to ? w.from : `${w.from} .. ${w.to}`} (${w.timeZone})`,
    `  validations ${n(summary.totals.validations)}`,
    `  by status   ${
      Object.entries(manifest.totals.byStatus)
        .map(([s, c]) => `${s} ${n(c)}`)
        .join(', ') || '—'
    }`,
    `  files in    ${result.location}`,
    ...result.files.map(
      (f) => `    ${f.name.padEnd(18)} ${n(f.bytes).padStart(12)} bytes  ${n(f.rows)} rows`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}
