/**
 * A report store in a local directory, for the CLI and `npm start`. Files are written into
 * `<dir>/<id>.partial/` and the directory is renamed to `<dir>/<id>/` only after the manifest is
 * in it, so a crash can never leave something that looks like a finished report.
 */
import { createWriteStream, mkdirSync, statSync, type WriteStream } from 'node:fs';
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { finished } from 'node:stream/promises';
import { isDeepStrictEqual } from 'node:util';
import {
  FILE_NAME,
  MANIFEST_NAME,
  PREVIOUS_REPORT_LOOKBACK_DAYS,
  REPORT_ID,
  SUMMARY_FILE,
} from '../../contract.js';
import { Manifest } from '../../report/manifest.js';
import { readPreviousSummary, type Summary } from '../../report/summary.js';
import { addDays } from '../../time/window.js';
import type { FileSpec, ReportSink, SinkFile } from './port.js';

export interface LocalSinkOptions {
  /** Parent directory; the report goes in `<dir>/<reportId>/`. */
  dir: string;
  reportId: string;
}

export interface LocalSink extends ReportSink {
  /** Where the finished report will be once committed. */
  readonly finalDir: string;
}

/**
 * `mkdir -p`, one level at a time from the nearest existing ancestor. Not `mkdirSync(path,
 * { recursive: true })`: under a directory that refuses new entries with ENOENT (`/proc`), Node's
 * recursive mkdir retries forever instead of failing.
 */
function makeDirs(path: string): void {
  const missing: string[] = [];
  for (let p = resolve(path); ; p = dirname(p)) {
    try {
      if (!statSync(p).isDirectory())
        throw Object.assign(new Error(`${p} is not a directory`), { code: 'ENOTDIR' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(p) === p) throw err;
      missing.push(p);
    }
  }
  for (const p of missing.reverse()) {
    try {
      mkdirSync(p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

export function createLocalSink({ dir, reportId }: LocalSinkOptions): LocalSink {
  if (!REPORT_ID.test(reportId)) throw new Error(`Refusing unsafe report id "${reportId}".`);
  const finalDir = resolve(dir, reportId);
  const workDir = `${finalDir}.partial`;
  // Synchronous on purpose: `open()` is synchronous and its stream must find the directory there.
  makeDirs(workDir);
  const pending: Promise<unknown>[] = [];
  const streams: WriteStream[] = [];

  return {
    location: finalDir,
    finalDir,
    open(file: FileSpec): SinkFile {
      if (!FILE_NAME.test(file.name)) throw new Error(`Refusing unsafe report file name "${file.name}".`);
      const stream = createWriteStream(join(workDir, file.name), { flags: 'wx' });
      const done = finished(stream).then(() => ({ bytes: stream.bytesWritten }));
      pending.push(done.catch(() => undefined));
      streams.push(stream);
      return { stream, done };
    },
    async commit(manifestJson: string) {
      await writeFile(join(workDir, MANIFEST_NAME), manifestJson, { flag: 'wx' });
      // Report ids are unique; if the directory exists anyway, rename fails rather than replace it.
      await rename(workDir, finalDir);
    },
    async abort() {
      for (const s of streams) s.destroy();
      await Promise.allSettled(pending);
      await rm(workDir, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}

export interface PreviousLocalQuery {
  dir: string;
  definition: string;
  /** First day of the report being made; the previous one ends before it. */
  day: string;
  timeZone: string;
  /** The previous report must have been asked for with the same filters to be comparable. */
  filters: Manifest['filters'];
  maxDaysBack?: number;
  /** Told why a previous report's summary is not used (unreadable, or of another shape). */
  onWarning?: (message: string) => void;
}

/**
 * The newest complete local report of the same definition, zone and filters that ended in the
 * `maxDaysBack` days before `day`, as its stored summary; null when there is none (deltas are
 * optional). A `summary.json` that is missing, not JSON or not of the shape the comparison reads
 * (an older version, a write cut short) also means "no previous report", told to `onWarning`.
 */
export async function findPreviousLocalSummary(q: PreviousLocalQuery): Promise<Summary | null> {
  const earliest = addDays(q.day, -(q.maxDaysBack ?? PREVIOUS_REPORT_LOOKBACK_DAYS));
  let best: { to: string; generatedAt: string; dir: string } | null = null;
  const entries = await readdir(q.dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (!entry.isDirectory() || !entry.name.startsWith(`${q.definition}-`) || entry.name.endsWith('.partial'))
      continue;
    const manifest = await readFile(join(q.dir, entry.name, MANIFEST_NAME), 'utf8')
      .then((text) => Manifest.safeParse(JSON.parse(text)))
      .catch(() => null);
    if (!manifest?.success) continue;
    const m = manifest.data;
    if (m.window.timeZone !== q.timeZone || !isDeepStrictEqual(m.filters, q.filters)) continue;
    if (m.window.to >= q.day || m.window.to < earliest) continue;
    if (!best || m.window.to > best.to || (m.window.to === best.to && m.generatedAt > best.generatedAt)) {
      best = { to: m.window.to, generatedAt: m.generatedAt, dir: entry.name };
    }
  }
  if (!best) return null;
  const path = join(q.dir, best.dir, SUMMARY_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    q.onWarning?.(`${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    return null;
  }
  const read = readPreviousSummary(text);
  if (!read.ok) {
    q.onWarning?.(`${path} is ${read.problem}`);
    return null;
  }
  return read.summary;
}
