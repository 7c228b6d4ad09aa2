/**
 * Sign-in against Cognito's own JSON API with fetch: InitiateAuth (USER_PASSWORD_AUTH, refresh),
 * RespondToAuthChallenge (TOTP code, first password) and the TOTP set-up calls. Hand-written on
 * purpose: Amplify's auth packages weigh more than this whole console, and these are five calls.
 */
import { config } from './config.js';

export interface Tokens {
  accessToken: string;
  refreshToken?: string;
  expiresIn: number;
}

export type SignInStep =
  | { kind: 'done'; tokens: Tokens }
  | { kind: 'mfa'; session: string }
  | { kind: 'new-password'; session: string };

/** A refusal from Cognito, its message already a sentence for people. */
export class SignInError extends Error {
  constructor(
    message: string,
    readonly type: string,
  ) {
    super(message);
  }
}

const MESSAGES: Record<string, string> = {
  NotAuthorizedException: 'The e-mail address or password is wrong. Check both and try again.',
  UserNotFoundException: 'The e-mail address or password is wrong. Check both and try again.',
  CodeMismatchException:
    'That code is wrong or has expired. Enter the current code from your authenticator app.',
  ExpiredCodeException: 'That code has expired. Enter the current code from your authenticator app.',
  EnableSoftwareTokenMFAException: 'That code is wrong. Enter the current code from your authenticator app.',
  InvalidPasswordException:
    'That password is too weak: use at least 12 characters with upper- and lower-case letters, digits and a symbol.',
  PasswordResetRequiredException: 'Your password must be reset. Ask an admin to reset it.',
  UserNotConfirmedException: 'Your account is not confirmed yet. Ask an admin to invite you again.',
  TooManyRequestsException: 'Too many attempts. Wait a minute and try again.',
  LimitExceededException: 'Too many attempts. Wait a minute and try again.',
  UserLambdaValidationException:
    'Sign-in is limited to the organisation’s e-mail domains. Ask an admin to check your account.',
};

async function call<T>(target: string, body: Record<string, unknown>): Promise<T> {
  const { region, cognitoEndpoint } = config();
  let res: Response;
  try {
    res = await fetch(cognitoEndpoint ?? `https://cognito-idp.${region}.amazonaws.com/`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': `AWSCognitoIdentityProviderService.${target}`,
      },
      body: JSON.stringify(body),
    });
  } catch {
    throw new SignInError(
      'The sign-in service cannot be reached. Check your connection and try again.',
      'Network',
    );
  }
  const data = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) {
    const type =
      String(data.__type ?? data.code ?? 'Unknown')
        .split('#')
        .pop() ?? 'Unknown';
    throw new SignInError(MESSAGES[type] ?? 'Signing in failed. Try again in a minute.', type);
  }
  return data as T;
}

interface AuthAnswer {
  AuthenticationResult?: { AccessToken: string; RefreshToken?: string; ExpiresIn: number };
  ChallengeName?: string;
  Session?: string;
}

function step(a: AuthAnswer): SignInStep {
  if (a.AuthenticationResult) {
    const r = a.AuthenticationResult;
    return {
      kind: 'done',
      tokens: {
        accessToken: r.AccessToken,
        ...(r.RefreshToken ? { refreshToken: r.RefreshToken } : {}),
        expiresIn: r.ExpiresIn,
      },
    };
  }
  if (a.ChallengeName === 'SOFTWARE_TOKEN_MFA') return { kind: 'mfa', session: a.Session ?? '' };
  if (a.ChallengeName === 'NEW_PASSWORD_REQUIRED') return { kind: 'new-password', session: a.Session ?? '' };
  throw new SignInError(
    'This account needs a sign-in step the console does not offer. Ask an admin for help.',
    a.ChallengeName ?? 'Unknown',
  );
}

export async function signIn(email: string, password: string): Promise<SignInStep> {
  return step(
    await call<AuthAnswer>('InitiateAuth', {
      ClientId: config().clientId,
      AuthFlow: 'USER_PASSWORD_AUTH',
      AuthParameters: { USERNAME: email, PASSWORD: password },
    }),
  );
}

export async function answerChallenge(
  kind: 'mfa' | 'new-password',
  session: string,
  email: string,
  answer: string,
): Promise<SignInStep> {
  return step(
    await call<AuthAnswer>('RespondToAuthChallenge', {
      ClientId: config().clientId,
      Session: session,
      ChallengeName: kind === 'mfa' ? 'SOFTWARE_TOKEN_MFA' : 'NEW_PASSWORD_REQUIRED',
      ChallengeResponses:
        kind === 'mfa'
          ? { USERNAME: email, SOFTWARE_TOKEN_MFA_CODE: answer }
          : { USERNAME: email, NEW_PASSWORD: answer },
    }),
  );
}

export async function refresh(refreshToken: string): Promise<Tokens> {
  const s = step(
    await call<AuthAnswer>('InitiateAuth', {
      ClientId: config().clientId,
      AuthFlow: 'REFRESH_TOKEN_AUTH',
      AuthParameters: { REFRESH_TOKEN: refreshToken },
    }),
  );
  if (s.kind !== 'done') throw new SignInError('Your session has ended. Sign in again.', 'Refresh');
  return { ...s.tokens, refreshToken: s.tokens.refreshToken ?? refreshToken };
}

/** TOTP set-up, step 1: a secret for the authenticator app. */
export async function startTotp(accessToken: string): Promise<string> {
  const r = await call<{ SecretCode: string }>('AssociateSoftwareToken', { AccessToken: accessToken });
  return r.SecretCode;
}

/** TOTP set-up, step 2: prove the app works, then make it the sign-in's second factor. */
export async function finishTotp(accessToken: string, code: string): Promise<void> {
  await call('VerifySoftwareToken', {
    AccessToken: accessToken,
    UserCode: code,
    FriendlyDeviceName: 'console',
  });
  await call('SetUserMFAPreference', {
    AccessToken: accessToken,
    SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true },
  });
}

export async function signOut(accessToken: string): Promise<void> {
  // Revokes the refresh token everywhere; a failure still signs out this tab.
  await call('GlobalSignOut', { AccessToken: accessToken }).catch(() => undefined);
}
