/** The package's version, as `--version` prints it: read from package.json, so it cannot drift. */
import pkg from '../../package.json' with { type: 'json' };

export const VERSION: string = pkg.version;
