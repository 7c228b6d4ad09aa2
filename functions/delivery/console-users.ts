/**
 * What the API asks AWS about the console's people and the Verifik token's secret: whether a
 * Cognito user has TOTP MFA enabled, and the secret's rotation metadata (never its value).
 */
import {
  AdminGetUserCommand,
  CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { DescribeSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

export function cognitoMfaCheck(
  userPoolId: string,
  client: CognitoIdentityProviderClient = new CognitoIdentityProviderClient({}),
): (username: string) => Promise<boolean> {
  return async (username) => {
    const user = await client.send(new AdminGetUserCommand({ UserPoolId: userPoolId, Username: username }));
    return (user.UserMFASettingList ?? []).includes('SOFTWARE_TOKEN_MFA');
  };
}

export function secretRotationState(client: SecretsManagerClient, secretId: string) {
  return async () => {
    const d = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
    return {
      ...(d.LastChangedDate ? { lastChangedAt: d.LastChangedDate } : {}),
      ...(d.LastRotatedDate ? { lastRotatedAt: d.LastRotatedDate } : {}),
      ...(d.NextRotationDate ? { nextRotationAt: d.NextRotationDate } : {}),
      rotationEnabled: d.RotationEnabled === true,
    };
  };
}
