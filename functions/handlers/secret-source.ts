/**
 * The two secrets the handlers need, behind one small interface so tests can swap it. Reads go
 * through delivery/secrets.ts (cached per cold start for a few minutes; errors name the secret,
 * never its value).
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { LinkKeys } from '../delivery/links.js';
import { createSecretCache, getLinkKeys } from '../delivery/secrets.js';

export interface SecretSource {
  verifikToken(): Promise<string>;
  /** The signing key first, then any older keys still accepted (rotation). */
  linkKeys(): Promise<LinkKeys>;
  /** Drops cached values, e.g. after Verifik rejected the token, so the next read is fresh. */
  invalidate(): void;
}

export function createSecretSource(opts: {
  client: SecretsManagerClient;
  verifikTokenSecretId: string;
  linkSigningSecretId: string;
  ttlMs?: number;
}): SecretSource {
  const cache = createSecretCache(opts.client, opts.ttlMs === undefined ? {} : { ttlMs: opts.ttlMs });
  return {
    verifikToken: () => cache.get(opts.verifikTokenSecretId),
    linkKeys: () => getLinkKeys(cache, opts.linkSigningSecretId),
    invalidate: () => cache.clear(),
  };
}
