/** zod's `v4/classic/external.js` (what `z` holds) without `locales`; see zod-without-locales.ts. */
import { unavailable } from './zod-core.js';

export * from '../../node_modules/zod/v4/classic/external.js';
export * as core from './zod-core.js';

/** Not bundled: only `z.config(z.locales.xx())` would need them, and nothing in functions/ calls it. */
export const locales: Record<string, never> = unavailable('z.locales');
