/**
 * The two secrets the functions read: the Verifik API token (the operator puts its value after
 * the first deploy; token-renewal.ts renews it from then on) and the key that signs download
 * links (generated here, never seen by anyone).
 */
import { type RemovalPolicy, SecretValue, Validations } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

/** Not a secret: the value the functions recognise as "token not set yet". */
export const VERIFIK_TOKEN_PLACEHOLDER = 'REPLACE_ME';

export interface ReportSecretsProps {
  /**
   * Secret names start with this, so operators can tell them apart: `<prefix>/verifik-token`. The
   * stack passes its name plus the stack instance's id (stack-instance.ts): a fixed name would
   * collide when the stack is deployed again after a destroy, with the retained secret (`retain`)
   * or, for a while, with the deleted one. The names are stack outputs.
   */
  readonly namePrefix: string;
  /**
   * `retain` keeps both secrets when the stack is deleted; `destroy` deletes them, and CloudFormation
   * deletes a secret with no recovery window (its handler force-deletes: nothing to restore).
   */
  readonly removalPolicy: RemovalPolicy;
}

export class ReportSecrets extends Construct {
  readonly verifikToken: secretsmanager.Secret;
  readonly linkSigningKey: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: ReportSecretsProps) {
    super(scope, id);

    // No token in the template or in code: the secret starts as the literal placeholder REPLACE_ME,
    // which the functions recognise and refuse with the exact command to run
    //   aws secretsmanager put-secret-value --secret-id <VerifikTokenSecretArn> --secret-string "$TOKEN"
    // (a random placeholder would only surface as a confusing 401 from Verifik).
    this.verifikToken = new secretsmanager.Secret(this, 'VerifikToken', {
      secretName: `${props.namePrefix}/verifik-token`,
      description:
        'Verifik API bearer token for the report functions. Put the real token with put-secret-value.',
      secretStringValue: SecretValue.unsafePlainText(VERIFIK_TOKEN_PLACEHOLDER),
      removalPolicy: props.removalPolicy,
    });
    // Renewed by a Secrets Manager rotation (token-renewal.ts), which also satisfies AwsSolutions-SMG4.
    // (The description stays as deployed: an update of the secret's properties is best avoided
    // on a resource whose value the operator and the rotation own.)

    // 64 alphanumeric characters ≈ 380 bits, well over the 256 bits HMAC-SHA256 can use.
    this.linkSigningKey = new secretsmanager.Secret(this, 'LinkSigningKey', {
      secretName: `${props.namePrefix}/link-signing-key`,
      description:
        'HMAC-SHA256 key that signs report download links. Replacing it outright breaks links already mailed; to rotate, put {"keys":["<new>","<old>"]} (the first signs, all verify) and drop the old key after linkTtlDays.',
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
      removalPolicy: props.removalPolicy,
    });
    Validations.of(this.linkSigningKey).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'A rotation Lambda replacing the key would break every link already mailed (valid for linkTtlDays); operators rotate by hand with {"keys": [new, old]}, which the functions verify against both.',
    });
  }
}
