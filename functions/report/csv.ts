/**
 * The two CSV outputs: the details (one row per validation, RFC 4180, UTF-8 with a BOM so Excel
 * keeps accents) and the summary in long form (section, key, metric, value).
 *
 * Encoding is the ten lines of RFC 4180 below rather than csv-stringify: with csv-stringify
 * (sync API, 2,000-row batches) the details CSV ran at ~85k rows/s, more than half of it in its
 * per-field option handling, which made the CSV slower than the whole Excel writer. The tests
 * parse every output back with csv-parse (quotes, commas, CR/LF, BOM, non-ASCII).
 * Rows are written in 256 KB chunks (ByteBatch), never one per record.
 */
import type { Writable } from 'node:stream';
import { ZoneClock } from '../time/zone.js';
import { ByteBatch } from './byte-batch.js';
import { CHECK_KEYS, DETAIL_COLUMNS, DETAIL_KEYS, type FlatRow } from './columns.js';
import { describeFilters, type ReportContext } from './context.js';
import { WriterStateError } from './errors.js';
import { IsoFormatter } from './iso-format.js';
import { OutputGuard, type OutputOptions } from './output-guard.js';
import type { Distribution } from './quantiles.js';

const BOM = '\uFEFF';
const BATCH_BYTES = 256 * 1024;
const NEEDS_QUOTES = /[",\r\n]/;
const QUOTE = /"/g;

/** RFC 4180: a field with a quote, comma, CR or LF is quoted, its quotes doubled. */
function csvField(value: string): string {
  return NEEDS_QUOTES.test(value) ? `"${value.replace(QUOTE, '""')}"` : value;
}

/** One CRLF-terminated record. */
export function csvLine(fields: readonly string[]): string {
  let line = '';
  for (let i = 0; i < fields.length; i++)
    line += i === 0 ? csvField(fields[i] ?? '') : `,${csvField(fields[i] ?? '')}`;
  return `${line}\r\n`;
}

/**
 * OWASP's advice against formula injection: a cell that a spreadsheet would run as a formula
 * gets a leading single quote. Only for text cells — numbers (negative ones too) stay numbers.
 */
export function neutralise(text: string): string {
  const c = text.charCodeAt(0);
  // = + - @ tab CR
  return c === 61 || c === 43 || c === 45 || c === 64 || c === 9 || c === 13 ? `'${text}` : text;
}

const IS_DATETIME = DETAIL_COLUMNS.map((c) => c.kind === 'datetime');

/**
 * One flat row as a CSV record: instants ISO 8601 with the zone's offset, booleans true/false,
 * missing empty, text neutralised and quoted as needed. Only text cells can need quoting: ISO
 * instants and numbers never contain a quote, comma or line break.
 */
function csvRecord(row: FlatRow, iso: IsoFormatter): string {
  let line = '';
  for (let i = 0; i < DETAIL_KEYS.length; i++) {
    const v = row[DETAIL_KEYS[i] as keyof FlatRow];
    const cell =
      v === null
        ? ''
        : IS_DATETIME[i]
          ? iso.format(v as number)
          : typeof v === 'string'
            ? csvField(neutralise(v))
            : String(v);
    line += i === 0 ? cell : `,${cell}`;
  }
  return `${line}\r\n`;
}

export interface DetailsCsvWriter {
  /** Returns a promise only when the caller must wait for the output to drain. */
  write(row: FlatRow): undefined | Promise<void>;
  finish(): Promise<{ rows: number }>;
  /** Abandons the file: `out` is destroyed with `err`. */
  abort(err: unknown): void;
}

/** How error messages name the details CSV when no `fileName` is given. */
export const DETAILS_CSV_FILE = 'the details CSV';

export interface DetailsCsvOptions extends OutputOptions {
  timeZone: string;
}

export function createDetailsCsvWriter(out: Writable, opts: DetailsCsvOptions): DetailsCsvWriter {
  const iso = new IsoFormatter(new ZoneClock(opts.timeZone));
  const guard = new OutputGuard(
    opts,
    DETAILS_CSV_FILE,
    () => out.writableLength,
    (err) => {
      // Stryker disable next-line ConditionalExpression: destroying a destroyed stream again does nothing
      if (!out.destroyed) out.destroy(err);
    },
  );
  out.on('error', (err) => guard.fail(err));
  // `out` keeps what it is given, so batches are copied (the batch buffer is reused).
  const batch = new ByteBatch(
    BATCH_BYTES,
    // Stryker disable next-line ConditionalExpression,StringLiteral: a string written as Buffer.from(string) is the same UTF-8 bytes
    (chunk) => !out.write(typeof chunk === 'string' ? chunk : Buffer.from(chunk)),
  );
  let rows = 0;
  let state: 'open' | 'finishing' | 'finished' | 'aborted' = 'open';
  const drained = (): Promise<void> =>
    guard.waitUntil(
      () => !out.writableNeedDrain,
      // Stryker disable next-line ArrowFunction: without the drain event the guard polls instead of waiting: later, same bytes
      () => out,
    );

  out.write(BOM + csvLine(DETAIL_KEYS));

  return {
    write(row) {
      if (state !== 'open') throw new WriterStateError('write() after finish() or abort()');
      guard.assertOk();
      rows++;
      return batch.add(csvRecord(row, iso)) ? drained() : undefined;
    },
    async finish() {
      if (state !== 'open') throw new WriterStateError('finish() called twice or after abort()');
      // Stryker disable next-line StringLiteral: any state but 'open' refuses writes; the name is for the reader
      state = 'finishing';
      // Stryker disable next-line CallExpression: without it the guard's wait below throws the same failure first thing; the flush and end it skips go to an output the failure destroyed
      guard.assertOk();
      batch.flush();
      await guard.guard(
        new Promise<void>((resolve, reject) => {
          // Stryker disable next-line StringLiteral,CallExpression: out's 'error' already fails the guard (above), which ends this wait with that same failure
          out.once('error', reject);
          out.end(() => resolve());
        }),
      );
      state = 'finished';
      return { rows };
    },
    abort(err) {
      // Stryker disable next-line ConditionalExpression,StringLiteral: a second abort() fails the guard again, which keeps the first failure and does nothing more
      if (state === 'finished' || state === 'aborted') return;
      // Stryker disable next-line StringLiteral: any state but 'open' refuses writes; a second abort() is a no-op either way (above)
      state = 'aborted';
      guard.fail(err);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Summary CSV

type Cell = string | number | boolean | null;

/**
 * The summary in long form — one figure per line — so it diffs and loads into anything; with its
 * number of data rows (the manifest's `rows`; cells may hold line breaks).
 */
export function summaryCsvDocument(ctx: ReportContext): { text: string; rows: number } {
  const s = ctx.summary;
  const clock = new ZoneClock(ctx.window.timeZone);
  const lines: Cell[][] = [['section', 'key', 'metric', 'value']];
  const add = (section: string, key: string, metric: string, value: Cell): void => {
    lines.push([section, key, metric, value]);
  };
  add('report', '', 'id', ctx.id);
  add('report', '', 'from', ctx.window.from);
  add('report', '', 'to', ctx.window.to);
  add('report', '', 'timeZone', ctx.window.timeZone);
  add('report', '', 'windowStart', clock.iso(ctx.window.start.getTime()));
  add('report', '', 'windowEnd', clock.iso(ctx.window.end.getTime()));
  add('report', '', 'generatedAt', clock.iso(ctx.generatedAt.getTime()));
  add('report', '', 'filters', describeFilters(ctx.filters));
  add('totals', '', 'validations', s.totals.validations);
  add('totals', '', 'failed', s.totals.failed);
  add('totals', '', 'highRisk', s.totals.highRisk);
  for (const e of s.byStatus) {
    add('byStatus', e.key, 'count', e.count);
    add('byStatus', e.key, 'share', e.share);
  }
  for (const e of s.byType) {
    add('byType', e.key, 'count', e.count);
    add('byType', e.key, 'share', e.share);
  }
  for (const [section, list] of [
    ['byClient', s.byClient],
    ['byProject', s.byProject],
  ] as const) {
    for (const e of list) {
      const key = e.id ?? '';
      add(section, key, 'name', e.name);
      add(section, key, 'count', e.count);
      add(section, key, 'failed', e.failed);
      add(section, key, 'highRisk', e.highRisk);
    }
  }
  for (const h of s.byHour) {
    add('byHour', String(h.hour), 'count', h.count);
    add('byHour', String(h.hour), 'failed', h.failed);
  }
  for (const k of CHECK_KEYS) {
    const c = s.checks[k];
    for (const m of ['passed', 'failed', 'other', 'missing', 'passRate', 'failRate'] as const)
      add('checks', k, m, c[m]);
  }
  for (const [k, d] of Object.entries(s.scores) as [string, Distribution][]) {
    for (const m of ['count', 'mean', 'min', 'max', 'p50', 'p90', 'p99'] as const) add('scores', k, m, d[m]);
  }
  add('risk', '', 'low', s.risk.buckets.low);
  add('risk', '', 'medium', s.risk.buckets.medium);
  add('risk', '', 'high', s.risk.buckets.high);
  add('risk', '', 'missing', s.risk.missing);
  add('risk', '', 'thresholdMedium', s.risk.thresholds.medium);
  add('risk', '', 'thresholdHigh', s.risk.thresholds.high);
  s.risk.top.forEach((e, i) => {
    const rank = String(i + 1);
    add('highestRisk', rank, 'id', e.id);
    add('highestRisk', rank, 'riskScore', e.riskScore);
    add('highestRisk', rank, 'createdAt', e.createdAt);
  });
  add('twoFactor', '', 'required', s.twoFactor.required);
  add('twoFactor', '', 'notRequired', s.twoFactor.notRequired);
  add('twoFactor', '', 'missing', s.twoFactor.missing);
  add('twoFactor', '', 'share', s.twoFactor.share);
  for (const m of ['count', 'negative', 'p50Ms', 'p95Ms', 'meanMs', 'maxMs', 'relativeError'] as const) {
    add('completion', '', m, s.completion[m]);
  }
  for (const [k, n] of Object.entries(s.missing)) add('missing', k, 'count', n);
  if (ctx.previous) {
    const p = ctx.previous;
    const change = (
      key: string,
      c: { current: number | null; previous: number | null; delta: number | null },
    ) => {
      add('previous', key, 'current', c.current);
      add('previous', key, 'previous', c.previous);
      add('previous', key, 'delta', c.delta);
    };
    change('validations', p.validations);
    change('failed', p.failed);
    change('highRisk', p.highRisk);
    for (const c of p.byStatus) change(`status:${c.key}`, c);
    for (const k of CHECK_KEYS) change(`passRate:${k}`, p.passRates[k]);
  }
  for (const [k, v] of Object.entries(ctx.diagnostics)) add('diagnostics', k, 'value', v);

  const cells = lines.map((line) =>
    line.map((v) => (v === null ? '' : typeof v === 'string' ? neutralise(v) : String(v))),
  );
  // The header row's cells never start with a trigger character, so neutralising it is a no-op.
  return { text: BOM + cells.map(csvLine).join(''), rows: lines.length - 1 };
}
