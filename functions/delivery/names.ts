/**
 * The shapes of report ids and file names, shared by everything that puts them in an S3 key, a
 * local directory, a signed link or an API route: they must agree, or a report could be stored
 * under a name its links or the API then refuse.
 */

/** Report ids: URL-, key- and link-safe, no separators. */
export const REPORT_ID = /^[A-Za-z0-9_-]{1,128}$/;
/** File names as the pipeline writes them: no slashes, no leading dot, so no path tricks. */
export const FILE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/;
