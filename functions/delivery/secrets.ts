/**
 * Secrets Manager values (the Verifik token, the link-signing key), cached per cold start.
 *
 * A warm Lambda reuses the value for `ttlMs`, so a rotated secret is picked up within minutes
 * without a redeploy; concurrent callers share one request. Error messages name the secret and
 * say what the operator must do, and never contain the value.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ReportsError } from '../errors/kinds.js';
import { awsErrorCode, describeAwsError } from './aws-errors.js';
import { MIN_KEY_BYTES } from './links.js';

export const DEFAULT_SECRET_TTL_MS = 5 * 60 * 1000;

export class SecretError extends ReportsError {
  override readonly kind = 'access';
  override name = 'SecretError';
  constructor(
    message: string,
    readonly secretId: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export class SecretNotFoundError extends SecretError {
  override name = 'SecretNotFoundError';
}

/** The secret exists but holds nothing usable yet: the operator has a step left to do. */
export class SecretNotSetError extends SecretError {
  override name = 'SecretNotSetError';
}

export class SecretFormatError extends SecretError {
  override name = 'SecretFormatError';
}

/** Values people leave in a secret before putting the real one. */
const PLACEHOLDER =
  /^(replace[-_ ]?me|change[-_ ]?me|placeholder|todo|tbd|xxx+|put[-_ ].*[-_ ]here|<[^>]*>)$/i;

function putValueHint(secretId: string): string {
  return `aws secretsmanager put-secret-value --secret-id ${secretId} --secret-string '<value>'`;
}

export interface SecretCache {
  /** The secret's string value; throws a SecretError saying what to do when it is unusable. */
  get(secretId: string): Promise<string>;
  /** Forgets every cached value (e.g. after a 401 that suggests the token was rotated). */
  clear(): void;
}

export interface SecretCacheOptions {
  ttlMs?: number;
  /** Milliseconds clock, injectable for tests. */
  now?: () => number;
}

export function createSecretCache(
  client: SecretsManagerClient,
  { ttlMs = DEFAULT_SECRET_TTL_MS, now = Date.now }: SecretCacheOptions = {},
): SecretCache {
  const entries = new Map<string, { value: Promise<string>; fetchedAt: number }>();

  async function fetchSecret(secretId: string): Promise<string> {
    let value: string | undefined;
    try {
      // The current version explicitly: during a rotation the token has a pending version too,
      // and moto (unlike AWS) answers a stage-less read with the version before the last move.
      const res = await client.send(
        new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT' }),
      );
      value =
        res.SecretString ?? (res.SecretBinary ? Buffer.from(res.SecretBinary).toString('utf8') : undefined);
    } catch (err) {
      if (awsErrorCode(err) === 'ResourceNotFoundException') {
        throw new SecretNotFoundError(
          `secret ${secretId} does not exist, or has no value yet: check the *_SECRET_ID setting, then run ${putValueHint(secretId)}`,
          secretId,
          { cause: err },
        );
      }
      // The SDK's message names the secret and the reason, never the value.
      throw new SecretError(`cannot read secret ${secretId}: ${describeAwsError(err)}`, secretId, {
        cause: err,
      });
    }
    const trimmed = value?.trim() ?? '';
    if (trimmed === '' || PLACEHOLDER.test(trimmed)) {
      throw new SecretNotSetError(
        `secret ${secretId} is ${trimmed === '' ? 'empty' : 'still a placeholder'}: put the real value with ${putValueHint(secretId)}`,
        secretId,
      );
    }
    return trimmed;
  }

  return {
    get(secretId: string): Promise<string> {
      const cached = entries.get(secretId);
      if (cached && now() - cached.fetchedAt < ttlMs) return cached.value;
      const value = fetchSecret(secretId);
      entries.set(secretId, { value, fetchedAt: now() });
      // A failure is not cached: the next call asks again (the operator may have just fixed it).
      value.catch(() => {
        if (entries.get(secretId)?.value === value) entries.delete(secretId);
      });
      return value;
    },
    clear() {
      entries.clear();
    },
  };
}

/**
 * Link-signing keys from the secret's value: a single generated string, or
 * `{ "keys": ["new", "old", …] }` during a rotation (the first signs, all verify).
 */
export function parseLinkKeys(value: string, secretId = 'link signing secret'): Buffer[] {
  const trimmed = value.trim();
  let raw: unknown[];
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw new SecretFormatError(
        `secret ${secretId} starts with "{" but is not valid JSON; use a plain key or {"keys": ["…"]}`,
        secretId,
      );
    }
    const keys = (parsed as { keys?: unknown }).keys;
    if (!Array.isArray(keys) || keys.length === 0) {
      throw new SecretFormatError(`secret ${secretId} must hold {"keys": [at least one key]}`, secretId);
    }
    raw = keys;
  } else {
    raw = [trimmed];
  }
  return raw.map((k, i) => {
    if (typeof k !== 'string' || Buffer.byteLength(k.trim()) < MIN_KEY_BYTES) {
      throw new SecretFormatError(
        `secret ${secretId}: key #${i + 1} must be a string of at least ${MIN_KEY_BYTES} bytes`,
        secretId,
      );
    }
    return Buffer.from(k.trim(), 'utf8');
  });
}

export async function getLinkKeys(cache: SecretCache, secretId: string): Promise<Buffer[]> {
  return parseLinkKeys(await cache.get(secretId), secretId);
}
