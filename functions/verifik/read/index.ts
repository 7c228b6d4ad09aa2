/** Reading a report window completely: the data layer's public surface (see `reader.ts`). */

export { assertComplete } from './completeness.js';
export type { ReadDiagnostics, ReadProgress } from './diagnostics.js';
export { recordVerdict } from './partitions.js';
export { DEFAULT_PER_PAGE, type ReadWindowOptions, readWindow } from './reader.js';
export type { WindowRead } from './stream.js';
