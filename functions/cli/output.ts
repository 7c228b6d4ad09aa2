/** What the command shows people: a progress line on a terminal and the finished report's summary. */
import type { ReportResult } from '../core/request.js';
import type { ReadProgress } from '../verifik/read/index.js';
import type { CliIo } from './io.js';

/**
 * C0 and C1 control characters (ESC and every CSI sequence's start, CR, LF, DEL …) and the Unicode
 * line separators. Text from Verifik (statuses, server messages) and paths reach the terminal only
 * through terminalText, so they can neither recolour nor rewrite it, nor forge a line.
 */
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;

/** `value` for the terminal: every run of control characters becomes one space. */
export function terminalText(value: string): string {
  return value.replace(CONTROLS, ' ');
}

/** "pages 12 · 5,400 records · 3,210/s", redrawn in place on a terminal, silent otherwise. */
export function progressLine(out: CliIo['stderr']) {
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
  const n = (x: number) => x.toLocaleString('en-US');
  const lines = [
    `Report ${result.id}`,
    `  window      ${w.from === w.to ? w.from : `${w.from} .. ${w.to}`} (${w.timeZone})`,
    `  validations ${n(summary.totals.validations)}`,
    `  by status   ${
      Object.entries(manifest.totals.byStatus)
        .map(([s, c]) => `${terminalText(s)} ${n(c)}`)
        .join(', ') || '—'
    }`,
    `  files in    ${terminalText(result.location)}`,
    ...result.files.map(
      (f) => `    ${f.name.padEnd(18)} ${n(f.bytes).padStart(12)} bytes  ${n(f.rows)} rows`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}
