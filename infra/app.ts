/** CDK entry point (`cdk.json` → `npx tsx infra/app.ts`). Wiring only: see build-app.ts. */
import { buildApp } from './build-app.js';

buildApp().app.synth();
