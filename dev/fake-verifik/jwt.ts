/**
 * The fake's bearer tokens: HS256 JWTs signed with the fake's own key, carrying `exp` like
 * Verifik's. Only this fake can verify them; the project's code reads `exp` without verifying
 * (functions/verifik/token.ts), as it must with Verifik's real tokens.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');

export interface FakeClaims {
  /** Who the token is for (Verifik puts its client id here; the fake a fixed one). */
  sub: string;
  /** Issued at, seconds since the epoch. */
  iat: number;
  /** Expiry, seconds since the epoch. */
  exp: number;
  /** Unique per token, so two tokens issued in the same second differ. */
  jti: string;
}

export class JwtSigner {
  private readonly key: Buffer;

  constructor(key?: string) {
    this.key = key === undefined ? randomBytes(32) : Buffer.from(key, 'utf8');
  }

  sign(claims: FakeClaims): string {
    const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return `${HEADER}.${payload}.${this.mac(`${HEADER}.${payload}`)}`;
  }

  /** The claims of a token this signer issued, or null (not a JWT, another key, tampered). */
  verify(token: string): FakeClaims | null {
    const parts = token.split('.');
    if (parts.length !== 3) return null;
    const [header, payload, signature] = parts as [string, string, string];
    const expected = Buffer.from(this.mac(`${header}.${payload}`));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    try {
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Partial<FakeClaims>;
      if (typeof claims.exp !== 'number' || typeof claims.iat !== 'number') return null;
      return claims as FakeClaims;
    } catch {
      return null;
    }
  }

  private mac(input: string): string {
    return createHmac('sha256', this.key).update(input).digest('base64url');
  }
}
