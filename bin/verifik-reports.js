#!/usr/bin/env node
// The `verifik-reports` command. Sources are TypeScript; tsx loads them without a build step,
// so the bin and `npm run report` always run the same code.
import { tsImport } from 'tsx/esm/api';

const { runCli } = await tsImport('../functions/cli/main.ts', import.meta.url);
process.exitCode = await runCli(process.argv.slice(2));
