/**
 * The console's user pool in moto's Cognito, set up as the stack's construct sets it up in AWS
 * (infra/constructs/console-users.ts): admin-created users only, the three groups, an app client
 * without a secret for USER_PASSWORD_AUTH and refresh, MFA optional. One demo user per group; the
 * admin has TOTP enabled (moto accepts any 6-digit code, as it does not check TOTP by default).
 *
 * One difference from AWS, on purpose: here user names are the e-mail addresses, since moto's
 * Cognito does not find users by `sub` when e-mail is the username attribute.
 */
import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminSetUserMFAPreferenceCommand,
  AdminSetUserPasswordCommand,
  AssociateSoftwareTokenCommand,
  type CognitoIdentityProviderClient,
  CreateGroupCommand,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  InitiateAuthCommand,
  SetUserPoolMfaConfigCommand,
  VerifySoftwareTokenCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { CONSOLE_GROUPS, type ConsoleGroup } from '../../functions/api/console-access.js';

export interface DemoLogin {
  group: ConsoleGroup;
  email: string;
  password: string;
  /** Only the admin: any 6 digits answer moto's TOTP challenge. */
  totp?: string;
}

export interface ConsolePool {
  userPoolId: string;
  clientId: string;
  /** `https://cognito-idp.<region>.amazonaws.com/<pool id>`, what moto writes as `iss`. */
  issuer: string;
  logins: DemoLogin[];
}

export const DEMO_TOTP_CODE = '123456';

export async function createConsolePool(
  client: CognitoIdentityProviderClient,
  opts: { region: string; domain: string; password?: string },
): Promise<ConsolePool> {
  const pool = await client.send(
    new CreateUserPoolCommand({
      PoolName: 'verifik-reports-console',
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      Policies: {
        PasswordPolicy: {
          MinimumLength: 12,
          RequireLowercase: true,
          RequireUppercase: true,
          RequireNumbers: true,
          RequireSymbols: true,
        },
      },
      AutoVerifiedAttributes: ['email'],
    }),
  );
  const userPoolId = pool.UserPool?.Id ?? '';
  await client.send(
    new SetUserPoolMfaConfigCommand({
      UserPoolId: userPoolId,
      MfaConfiguration: 'OPTIONAL',
      SoftwareTokenMfaConfiguration: { Enabled: true },
    }),
  );
  const app = await client.send(
    new CreateUserPoolClientCommand({
      UserPoolId: userPoolId,
      ClientName: 'console',
      GenerateSecret: false,
      ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
      PreventUserExistenceErrors: 'ENABLED',
    }),
  );
  const clientId = app.UserPoolClient?.ClientId ?? '';
  const password = opts.password ?? 'Console-demo-2026';
  const logins: DemoLogin[] = [];
  for (const group of CONSOLE_GROUPS) {
    await client.send(new CreateGroupCommand({ UserPoolId: userPoolId, GroupName: group }));
    const email = `${group.replace(/s$/, '')}@${opts.domain}`;
    await client.send(
      new AdminCreateUserCommand({
        UserPoolId: userPoolId,
        Username: email,
        UserAttributes: [
          { Name: 'email', Value: email },
          { Name: 'email_verified', Value: 'true' },
        ],
        MessageAction: 'SUPPRESS',
      }),
    );
    await client.send(
      new AdminSetUserPasswordCommand({
        UserPoolId: userPoolId,
        Username: email,
        Password: password,
        Permanent: true,
      }),
    );
    await client.send(
      new AdminAddUserToGroupCommand({ UserPoolId: userPoolId, Username: email, GroupName: group }),
    );
    logins.push({ group, email, password });
  }
  const admin = logins.find((l) => l.group === 'admins')!;
  await enableTotp(client, userPoolId, clientId, admin.email, password);
  admin.totp = DEMO_TOTP_CODE;
  return {
    userPoolId,
    clientId,
    issuer: `https://cognito-idp.${opts.region}.amazonaws.com/${userPoolId}`,
    logins,
  };
}

/** What an admin does once in the console's Security page: register an authenticator app. */
async function enableTotp(
  client: CognitoIdentityProviderClient,
  userPoolId: string,
  clientId: string,
  username: string,
  password: string,
): Promise<void> {
  const auth = await client.send(
    new InitiateAuthCommand({
      ClientId: clientId,
      AuthFlow: 'USER_PASSWORD_AUTH',
      AuthParameters: { USERNAME: username, PASSWORD: password },
    }),
  );
  const accessToken = auth.AuthenticationResult?.AccessToken ?? '';
  await client.send(new AssociateSoftwareTokenCommand({ AccessToken: accessToken }));
  await client.send(new VerifySoftwareTokenCommand({ AccessToken: accessToken, UserCode: DEMO_TOTP_CODE }));
  await client.send(
    new AdminSetUserMFAPreferenceCommand({
      UserPoolId: userPoolId,
      Username: username,
      SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true },
    }),
  );
}
