/**
 * A ReportSink that keeps everything in memory and records the order things happened in, so a
 * test can check the port's contract (every file stored before the manifest; abort removes it
 * all) without S3 or a directory.
 */
import { Writable } from 'node:stream';
import type { FileSpec, ReportSink, SinkFile } from '../../functions/delivery/sink/index.js';

export interface MemorySink extends ReportSink {
  /** Stored files by name (only those whose `done` resolved). */
  readonly files: Map<string, { spec: FileSpec; bytes: Buffer }>;
  manifest: string | null;
  aborted: unknown;
  /** 'open <name>', 'stored <name>', 'commit', 'abort' in the order they happened. */
  readonly events: string[];
}

export function createMemorySink(): MemorySink {
  const files = new Map<string, { spec: FileSpec; bytes: Buffer }>();
  const events: string[] = [];
  const sink: MemorySink = {
    location: 'memory://report/',
    files,
    manifest: null,
    aborted: undefined,
    events,
    open(spec: FileSpec): SinkFile {
      if (sink.manifest !== null || sink.aborted !== undefined)
        throw new Error(`open ${spec.name} after the end`);
      events.push(`open ${spec.name}`);
      const chunks: Buffer[] = [];
      let resolve!: (v: { bytes: number }) => void;
      let reject!: (e: unknown) => void;
      const done = new Promise<{ bytes: number }>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      done.catch(() => undefined);
      const stream = new Writable({
        write(chunk: Buffer, _enc, cb) {
          chunks.push(Buffer.from(chunk));
          cb();
        },
        final(cb) {
          const bytes = Buffer.concat(chunks);
          files.set(spec.name, { spec, bytes });
          events.push(`stored ${spec.name}`);
          resolve({ bytes: bytes.length });
          cb();
        },
      });
      stream.on('error', reject);
      return { stream, done };
    },
    async commit(manifestJson: string) {
      events.push('commit');
      sink.manifest = manifestJson;
    },
    async abort(reason: unknown) {
      events.push('abort');
      sink.aborted = reason ?? 'aborted';
      files.clear();
    },
  };
  return sink;
}
