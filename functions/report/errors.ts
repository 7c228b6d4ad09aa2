import { ReportsError } from '../errors/kinds.js';
/** Why a report file could not be rendered. None of these may ever end in a manifest. */

/** The output stopped accepting bytes: nothing moved for longer than the watchdog allows. */
export class RenderStalledError extends ReportsError {
  override readonly kind = 'output';
  override name = 'RenderStalledError';
  constructor(
    readonly file: string,
    readonly idleMs: number,
  ) {
    super(
      `Writing ${file} stalled: the output accepted no data for ${Math.round(idleMs / 1000)} s. ` +
        'The destination (disk or upload) stopped draining; the report was not completed.',
    );
  }
}

/** The output stream or the archive failed while a file was being written. */
export class RenderFailedError extends ReportsError {
  override readonly kind = 'output';
  override name = 'RenderFailedError';
  constructor(
    readonly file: string,
    cause: unknown,
  ) {
    super(`Writing ${file} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** The caller used a writer out of order (write after finish, finish twice…): a programming error. */
export class WriterStateError extends ReportsError {
  override readonly kind = 'output';
  override name = 'WriterStateError';
}

/** A render error as it crosses a thread boundary, where a structured clone would drop its class. */
export type RenderErrorData =
  | { kind: 'stalled'; file: string; idleMs: number }
  | { kind: 'failed'; file: string; cause: string };

/** `err` as data; anything that is not already a render error is a failure of `file`. */
export function renderErrorData(err: unknown, file: string): RenderErrorData {
  if (err instanceof RenderStalledError) return { kind: 'stalled', file: err.file, idleMs: err.idleMs };
  if (err instanceof RenderFailedError) {
    const cause = err.cause instanceof Error ? err.cause.message : String(err.cause);
    return { kind: 'failed', file: err.file, cause };
  }
  return { kind: 'failed', file, cause: err instanceof Error ? err.message : String(err) };
}

/** The error `renderErrorData` described, with its class and message as they were. */
export function renderErrorFrom(data: RenderErrorData): RenderStalledError | RenderFailedError {
  return data.kind === 'stalled'
    ? new RenderStalledError(data.file, data.idleMs)
    : new RenderFailedError(data.file, new Error(data.cause));
}
