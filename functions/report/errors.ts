/** Why a report file could not be rendered. None of these may ever end in a manifest. */

/** The output stopped accepting bytes: nothing moved for longer than the watchdog allows. */
export class RenderStalledError extends Error {
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
export class RenderFailedError extends Error {
  override name = 'RenderFailedError';
  constructor(
    readonly file: string,
    cause: unknown,
  ) {
    super(`Writing ${file} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** The caller used a writer out of order (write after finish, finish twice…): a programming error. */
export class WriterStateError extends Error {
  override name = 'WriterStateError';
}
