/**
 * The console's JWT check (what API Gateway's Cognito authorizer does, and what the local console
 * server does with jose): tokens from moto's Cognito are accepted, and forged, expired,
 * wrong-audience, wrong-issuer and id tokens are refused, at the verifier and over HTTP.
 */
import {
  CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  InitiateAuthCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { decodeJwt, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsolePool } from '../../dev/console/cognito.js';
import { createJwtVerifier } from '../../dev/console/jwt.js';
import { type ConsoleServer, startConsoleServer } from '../../dev/console/server.js';

let server: ConsoleServer;
let cognito: CognitoIdentityProviderClient;
let access: string;
let id: string;
let otherClientToken: string;
let otherPoolToken: string;

async function tokens(clientId: string, email: string, password: string) {
  const r = await cognito.send(
    new InitiateAuthCommand({
      ClientId: clientId,
      AuthFlow: 'USER_PASSWORD_AUTH',
      AuthParameters: { USERNAME: email, PASSWORD: password },
    }),
  );
  return { access: r.AuthenticationResult?.AccessToken ?? '', id: r.AuthenticationResult?.IdToken ?? '' };
}

const verifier = (now?: () => Date) =>
  createJwtVerifier({
    issuer: server.pool.issuer,
    audience: [server.pool.clientId],
    jwksUrl: `${server.moto.endpoint}/${server.pool.userPoolId}/.well-known/jwks.json`,
    ...(now ? { now } : {}),
  });

beforeAll(async () => {
  server = await startConsoleServer({ seed: false, build: false, validations: 10 });
  cognito = new CognitoIdentityProviderClient(server.moto.clientConfig);
  const viewer = server.pool.logins.find((l) => l.group === 'viewers')!;
  ({ access, id } = await tokens(server.pool.clientId, viewer.email, viewer.password));
  // Another app client of the same pool: a valid signature and issuer, the wrong audience.
  const other = await cognito.send(
    new CreateUserPoolClientCommand({
      UserPoolId: server.pool.userPoolId,
      ClientName: 'other',
      ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH'],
    }),
  );
  otherClientToken = (await tokens(other.UserPoolClient?.ClientId ?? '', viewer.email, viewer.password))
    .access;
  // Another pool in the same moto (moto signs every pool with one key): only the issuer differs.
  const otherPool = await createConsolePool(cognito, { region: server.moto.region, domain: 'ops.example' });
  const login = otherPool.logins.find((l) => l.group === 'viewers')!;
  otherPoolToken = (await tokens(otherPool.clientId, login.email, login.password)).access;
});

afterAll(async () => {
  cognito?.destroy();
  await server?.close();
});

describe('the console JWT check', () => {
  it("accepts moto's access token and passes its claims as API Gateway does (groups flattened)", async () => {
    const outcome = await verifier()(`Bearer ${access}`);
    expect(outcome).toMatchObject({
      ok: true,
      claims: { token_use: 'access', 'cognito:groups': '[viewers]' },
    });
  });

  it('refuses a token signed with another key, even with the same kid and claims', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const claims = decodeJwt(access);
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: 'dummy' })
      .sign(privateKey);
    expect(await verifier()(`Bearer ${forged}`)).toMatchObject({ ok: false });
    // Only the key differs: the same claims, unexpired, for the right client and issuer.
    expect(decodeJwt(forged)).toEqual(claims);
  });

  it('refuses an expired token', async () => {
    const later = () => new Date(Date.now() + 2 * 3_600_000);
    expect(await verifier(later)(`Bearer ${access}`)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/exp/),
    });
  });

  it('refuses a token of another app client (wrong audience) and of another pool (wrong issuer)', async () => {
    expect(await verifier()(`Bearer ${otherClientToken}`)).toEqual({
      ok: false,
      reason: 'issued to another client',
    });
    expect(await verifier()(`Bearer ${otherPoolToken}`)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/iss/),
    });
  });

  it('refuses an id token in place of an access token, and a missing or malformed header', async () => {
    expect(await verifier()(`Bearer ${id}`)).toEqual({ ok: false, reason: 'not an access token' });
    expect(await verifier()(undefined)).toMatchObject({ ok: false });
    expect(await verifier()(`Basic ${access}`)).toMatchObject({ ok: false });
    expect(await verifier()('Bearer not.a.jwt')).toMatchObject({ ok: false });
  });

  it('over HTTP: only the good token reaches the API; the rest get 401', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT(decodeJwt(access))
      .setProtectedHeader({ alg: 'RS256', kid: 'dummy' })
      .sign(privateKey);
    const status = async (token: string | undefined) => {
      const res = await fetch(`${server.url}/console/definitions`, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
      await res.arrayBuffer();
      return res.status;
    };
    expect(await status(access)).toBe(200);
    expect(
      await Promise.all([undefined, forged, id, otherClientToken, otherPoolToken].map((t) => status(t))),
    ).toEqual([401, 401, 401, 401, 401]);
    server.shiftClock(2 * 3_600_000);
    try {
      expect(await status(access)).toBe(401);
    } finally {
      server.shiftClock(-2 * 3_600_000);
    }
  });
});
