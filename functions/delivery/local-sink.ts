/**
 * A report store in a local directory, for the CLI and `npm start`. Files are written into
 * `<dir>/<id>.partial/` and the directory is renamed to `<dir>/<id>/` only after the manifest is
 * in it, so a crash can never leave something that looks like a finished report.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { finished } from 'node:stream/promises';
import type { FileSpec, ReportSink, SinkFile } from './sink.js';

export interface LocalSinkOptions {
  /** Parent directory; the report goes in `<dir>/<reportId>/`. */
  dir: string;
  reportId: string;
}

export interface LocalSink extends ReportSink {
  /** Where the finished report will be once committed. */
  readonly finalDir: string;
}

export function createLocalSink({ dir, reportId }: LocalSinkOptions): LocalSink {
  assertPlainName(reportId);
  const finalDir = resolve(dir, reportId);
  const workDir = `${finalDir}.partial`;
  // Synchronous on purpose: `open()` is synchronous and its stream must find the directory there.
  mkdirSync(workDir, { recursive: true });
  const pending: Promise<unknown>[] = [];
  const streams: WriteStream[] = [];

  return {
    location: finalDir,
    finalDir,
    open(file: FileSpec): SinkFile {
      assertPlainName(file.name);
      const stream = createWriteStream(join(workDir, file.name), { flags: 'wx' });
      const done = finished(stream).then(() => ({ bytes: stream.bytesWritten }));
      pending.push(done.catch(() => undefined));
      streams.push(stream);
      return { stream, done };
    },
    async commit(manifestJson: string) {
      await writeFile(join(workDir, 'manifest.json'), manifestJson, { flag: 'wx' });
      await rm(finalDir, { recursive: true, force: true });
      await rename(workDir, finalDir);
    },
    async abort() {
      for (const s of streams) s.destroy();
      await Promise.allSettled(pending);
      await rm(workDir, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}

function assertPlainName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name))
    throw new Error(`Refusing unsafe report file name "${name}".`);
}
