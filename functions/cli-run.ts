/** The CLI's I/O half: wires the real adapters (Verifik client, a sink) around the pipeline. */
import type { CliIo, CliOptions } from './cli.js';
import { createLocalSink } from './delivery/local-sink.js';
import { newReportId, type ReportRequest, type ReportResult, runReport } from './pipeline.js';
import { reportWindow } from './time/window.js';
import { createVerifikClient } from './verifik/client.js';
import type { ReadProgress } from './verifik/paginate.js';

export const DEFAULT_BASE_URL = 'https://api.verifik.co';

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
  const verifik = createVerifikClient({ baseUrl: io.env.VERIFIK_BASE_URL ?? DEFAULT_BASE_URL, token });
  const reportId = newReportId(request, io.now());
  const progress = progressLine(io.stderr);

  const sink = createLocalSink({ dir: options.out, reportId });
  try {
    const result = await runReport({ request, reportId, verifik, sink, onProgress: progress.update });
    progress.done();
    if (!options.json) io.stdout.write(humanSummary(result));
    return result;
  } catch (err) {
    progress.done();
    throw err;
  }
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

export function humanSummary(result: ReportResult): string {
  const { manifest, summary } = result;
  const w = manifest.window;
  const lines = [
    `Report ${result.id}`,
    `  window     ${w.from === w.to ? w.from : `${w.from} .. ${w.to}`} (${w.timeZone})`,
    `  validations ${summary.totals.validations.toLocaleString('en-US')}`,
    `  by status  ${
      Object.entries(manifest.totals.byStatus)
        .map(([s, n]) => `${s} ${n.toLocaleString('en-US')}`)
        .join(', ') || '—'
    }`,
    `  files in   ${result.location}`,
    ...result.files.map(
      (f) =>
        `    ${f.name.padEnd(18)} ${f.bytes.toLocaleString('en-US').padStart(12)} bytes  ${f.rows.toLocaleString('en-US')} rows`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}
