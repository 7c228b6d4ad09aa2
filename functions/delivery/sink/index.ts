/**
 * The sink folder's public surface: the port every report store implements, the local
 * directory store (CLI) and the S3 store (Lambda), with the S3 key layout and read side.
 */

export {
  createLocalSink,
  findPreviousLocalSummary,
  type LocalSink,
  type LocalSinkOptions,
  type PreviousLocalQuery,
} from './local.js';
export type { FileSpec, ReportSink, SinkFile } from './port.js';
export { dayKeyPrefix, reportKeyPrefix, S3SinkStateError } from './s3-keys.js';
export {
  findPreviousManifest,
  ManifestNotFoundError,
  type PreviousManifestQuery,
  readManifest,
} from './s3-read.js';
export {
  createS3Sink,
  type S3ReportSink,
  type S3SinkOptions,
  S3UploadError,
  type ServerSideEncryption,
  SinkAbortedError,
} from './s3-writer.js';
