/**
 * The port every report store implements (a local directory, S3). A report is a set of
 * files streamed in as they are rendered, then `manifest.json`, written last: its presence is
 * the only signal that a report is complete.
 */
import type { Writable } from 'node:stream';

export interface SinkFile {
  /** Where the renderer writes; back-pressure is honoured. */
  readonly stream: Writable;
  /** Resolves with the stored size once the bytes are durably stored; rejects on failure. */
  readonly done: Promise<{ bytes: number }>;
}

export interface FileSpec {
  name: string;
  contentType: string;
  /** File name offered to people who download it (Content-Disposition). */
  downloadName?: string;
}

export interface ReportSink {
  /** Where this report lives, for people: a directory path or an s3:// URL. */
  readonly location: string;
  open(file: FileSpec): SinkFile;
  /** Writes the manifest last; only called after every file's `done` resolved. */
  commit(manifestJson: string): Promise<void>;
  /** Removes or aborts everything written so far; never throws. */
  abort(reason: unknown): Promise<void>;
}
