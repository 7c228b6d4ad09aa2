/** What every function builds the same way from its environment: configuration, logger, secrets. */
import { Logger } from '@aws-lambda-powertools/logger';
import type { RunDeps } from '../runs/deps.js';
import { type Config, type FunctionRole, loadConfig } from '../settings/config.js';
import { createSecretSource } from './secret-source.js';

export function commonDeps(
  role: FunctionRole,
  overrides: {
    env?: Record<string, string | undefined>;
    config?: Config;
    logger?: Logger;
    secrets?: RunDeps['secrets'];
  },
): Pick<RunDeps, 'config' | 'logger' | 'secrets'> {
  const config = overrides.config ?? loadConfig(role, overrides.env ?? process.env);
  return {
    config,
    logger: overrides.logger ?? new Logger({ serviceName: role }),
    secrets:
      overrides.secrets ??
      createSecretSource({
        verifikTokenSecretId: config.VERIFIK_TOKEN_SECRET_ID,
        linkSigningSecretId: config.LINK_SIGNING_SECRET_ID,
      }),
  };
}

/** Memoises a deps factory: built on first use (not at import, so a bad config fails the invocation, visibly). */
export function lazyDeps<D>(factory: () => D): () => D {
  let deps: D | undefined;
  return () => {
    deps ??= factory();
    return deps;
  };
}
