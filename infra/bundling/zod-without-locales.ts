/**
 * `zod` as the Lambda bundles see it (BUNDLING's `--alias:zod=…` in constructs/report-functions.ts):
 * zod's own entry point (node_modules/zod/index.js), built from zod's modules, without the
 * `locales` namespaces, the 60-odd translations of its error messages.
 *
 * Why: the functions write `import { z } from 'zod'` and call `z.string()` etc., so esbuild has to
 * build the `z` namespace object, and that object holds `z.locales` and `z.core.locales`: every
 * locale lands in every bundle (≈ 260 KB, a fifth of the API bundle) though nothing calls them.
 * English does not come through them: zod's schemas import `locales/en.js` themselves and install
 * it on the first schema built, so messages are unchanged (test/unit/infra-bundling.test.ts).
 *
 * How: zod-external.ts and zod-core.ts re-export zod's `external` and `core` modules and shadow
 * `locales` with an explicit export (which wins over `export *`, by ECMAScript module linking);
 * this file is zod's index.js over them. zod is reached by path, not by name: the alias sends
 * every `zod` and `zod/…` import here.
 */
import * as z from './zod-external.js';

export * from './zod-external.js';
export { z, z as default };
