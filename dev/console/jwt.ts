/**
 * What API Gateway's Cognito JWT authorizer does, for the local console server: verify the
 * bearer token against the pool's JWKS (signature, `iss`, `exp`), accept only access tokens
 * issued to the console's app client, and hand the claims on as the authorizer does (strings;
 * array claims flattened to `[a b]`). With jose (a well-kept, dependency-free JOSE library)
 * rather than hand-written RSA checks.
 */
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose';

export interface JwtCheck {
  /** `https://cognito-idp.<region>.amazonaws.com/<pool id>` */
  issuer: string;
  /** The app clients whose tokens are accepted (the authorizer's "audience"). */
  audience: readonly string[];
  jwksUrl: string;
  /** The verifier's clock (tests move it forward to expire a session). */
  now?: () => Date;
}

export type JwtOutcome = { ok: true; claims: Record<string, string> } | { ok: false; reason: string };

export function createJwtVerifier(
  check: JwtCheck,
): (authorization: string | undefined) => Promise<JwtOutcome> {
  const jwks = createRemoteJWKSet(new URL(check.jwksUrl));
  return async (authorization) => {
    const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
    if (!token) return { ok: false, reason: 'no bearer token' };
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, jwks, {
        issuer: check.issuer,
        algorithms: ['RS256'],
        currentDate: check.now?.() ?? new Date(),
        requiredClaims: ['exp', 'token_use'],
      }));
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
    }
    // Cognito access tokens carry `client_id`, not `aud`: API Gateway checks that for access tokens.
    if (payload.token_use !== 'access') return { ok: false, reason: 'not an access token' };
    if (typeof payload.client_id !== 'string' || !check.audience.includes(payload.client_id))
      return { ok: false, reason: 'issued to another client' };
    const claims: Record<string, string> = {};
    for (const [k, v] of Object.entries(payload))
      claims[k] = Array.isArray(v) ? `[${v.join(' ')}]` : typeof v === 'string' ? v : JSON.stringify(v);
    return { ok: true, claims };
  };
}
