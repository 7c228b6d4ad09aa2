/**
 * The secrets port (runs/deps.ts SecretSource) over Secrets Manager: reads go through
 * delivery/secrets.ts (cached per cold start for a few minutes; errors name the secret, never
 * its value).
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { secretsClient } from '../delivery/aws-clients.js';
import { createSecretCache, getLinkKeys } from '../delivery/secrets.js';
import type { SecretSource } from '../runs/deps.js';

export function createSecretSource(opts: {
  /** Default: the cold start's shared client. */
  client?: SecretsManagerClient;
  verifikTokenSecretId: string;
  linkSigningSecretId: string;
  ttlMs?: number;
}): SecretSource {
  const cache = createSecretCache(
    opts.client ?? secretsClient(),
    opts.ttlMs === undefined ? {} : { ttlMs: opts.ttlMs },
  );
  return {
    verifikToken: () => cache.get(opts.verifikTokenSecretId),
    linkKeys: () => getLinkKeys(cache, opts.linkSigningSecretId),
    invalidate: () => cache.clear(),
    destinationSecret: (secretName) => cache.get(secretName),
  };
}
