import {
  CreateSecretCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretsClient } from '../../functions/delivery/aws-clients.js';
import {
  createSecretCache,
  getLinkKeys,
  parseLinkKeys,
  SecretFormatError,
  SecretNotFoundError,
  SecretNotSetError,
} from '../../functions/delivery/secrets.js';
import { type Moto, startMoto } from '../support/moto.js';

const TOKEN = 'vk-live-7f3a9c2e1b5d4f6a8c0e2b4d6f8a0c2e';
const SIGNING_KEY = 'aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5bC7dE9fG1hJ3kL5mN7pQ9rS1tU3v';

let moto: Moto;
let client: SecretsManagerClient;
/** GetSecretValue calls that reached the wire, counted by a client middleware. */
let fetches = 0;

beforeAll(async () => {
  moto = await startMoto();
  client = createSecretsClient(moto.clientConfig);
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'GetSecretValueCommand') fetches += 1;
      return next(args);
    },
    { step: 'initialize', name: 'countFetches' },
  );
  await client.send(new CreateSecretCommand({ Name: 'stack/verifik-token', SecretString: TOKEN }));
  await client.send(new CreateSecretCommand({ Name: 'stack/link-signing-key', SecretString: SIGNING_KEY }));
  await client.send(new CreateSecretCommand({ Name: 'stack/blank', SecretString: '   ' }));
  await client.send(new CreateSecretCommand({ Name: 'stack/placeholder', SecretString: 'REPLACE_ME' }));
  await client.send(new CreateSecretCommand({ Name: 'stack/no-value' }));
});

afterAll(async () => {
  client?.destroy();
  await moto?.stop();
});

describe('createSecretCache', () => {
  it('fetches once, then serves from the cache until the TTL passes', async () => {
    let clock = 1_000_000;
    const cache = createSecretCache(client, { ttlMs: 60_000, now: () => clock });
    const before = fetches;
    expect(await cache.get('stack/verifik-token')).toBe(TOKEN);
    expect(await cache.get('stack/verifik-token')).toBe(TOKEN);
    expect(fetches - before).toBe(1);

    // A rotated value is picked up once the cached one is older than the TTL.
    await client.send(
      new PutSecretValueCommand({ SecretId: 'stack/verifik-token', SecretString: `${TOKEN}-v2` }),
    );
    clock += 59_999;
    expect(await cache.get('stack/verifik-token')).toBe(TOKEN);
    clock += 1;
    expect(await cache.get('stack/verifik-token')).toBe(`${TOKEN}-v2`);
    expect(fetches - before).toBe(2);
    await client.send(new PutSecretValueCommand({ SecretId: 'stack/verifik-token', SecretString: TOKEN }));
  });

  it('shares one in-flight request among concurrent callers', async () => {
    const cache = createSecretCache(client);
    const before = fetches;
    const values = await Promise.all(Array.from({ length: 10 }, () => cache.get('stack/link-signing-key')));
    expect(new Set(values)).toEqual(new Set([SIGNING_KEY]));
    expect(fetches - before).toBe(1);
  });

  it('explains a missing secret, and does not cache the failure', async () => {
    const cache = createSecretCache(client);
    const before = fetches;
    await expect(cache.get('stack/nope')).rejects.toThrow(SecretNotFoundError);
    await expect(cache.get('stack/nope')).rejects.toThrow(
      /secret stack\/nope does not exist.*aws secretsmanager put-secret-value --secret-id stack\/nope --secret-string/,
    );
    expect(fetches - before).toBe(2);
  });

  it('treats a secret created without a value as not found, with the same fix', async () => {
    const cache = createSecretCache(client);
    await expect(cache.get('stack/no-value')).rejects.toThrow(
      /stack\/no-value does not exist, or has no value yet.*put-secret-value --secret-id stack\/no-value/,
    );
  });

  it.each([
    ['stack/blank', 'empty'],
    ['stack/placeholder', 'still a placeholder'],
  ])('refuses %s as %s, telling the operator the exact command', async (id, what) => {
    const cache = createSecretCache(client);
    const error = await cache.get(id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretNotSetError);
    expect((error as Error).message).toBe(
      `secret ${id} is ${what}: put the real value with aws secretsmanager put-secret-value --secret-id ${id} --secret-string '<value>'`,
    );
  });

  it('never puts the value in an error', async () => {
    const cache = createSecretCache(client);
    await client.send(
      new CreateSecretCommand({ Name: 'stack/bad-json', SecretString: `{"keys": ["${TOKEN}"` }),
    );
    const bad = (await getLinkKeys(cache, 'stack/bad-json').catch((e: unknown) => e)) as Error;
    expect(bad).toBeInstanceOf(SecretFormatError);
    expect(bad.message).toContain('stack/bad-json');
    expect(bad.message).not.toContain(TOKEN);
    expect(JSON.stringify(bad)).not.toContain(TOKEN);
  });
});

describe('link keys', () => {
  it('reads a generated string as one key', async () => {
    const keys = await getLinkKeys(createSecretCache(client), 'stack/link-signing-key');
    expect(keys).toEqual([Buffer.from(SIGNING_KEY)]);
  });

  it('reads {"keys": [...]} for rotation, first key first', () => {
    const next = 'n'.repeat(40);
    expect(parseLinkKeys(JSON.stringify({ keys: [next, SIGNING_KEY] }))).toEqual([
      Buffer.from(next),
      Buffer.from(SIGNING_KEY),
    ]);
  });

  it.each([
    ['a short key', 'short'],
    ['an empty key list', '{"keys": []}'],
    ['a non-string key', '{"keys": [42]}'],
    ['JSON without keys', '{"key": "x"}'],
  ])('refuses %s', (_, value) => {
    expect(() => parseLinkKeys(value, 'stack/k')).toThrow(SecretFormatError);
  });
});
