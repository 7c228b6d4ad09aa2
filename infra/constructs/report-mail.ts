/**
 * The SES side: the sender identity (a domain or a single address), a configuration set that
 * insists on TLS, and the one permission to send mail as that identity.
 */
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as ses from 'aws-cdk-lib/aws-ses';
import { Construct } from 'constructs';

export interface ReportMailProps {
  /** The From address the functions use (`MAIL_FROM`). */
  readonly fromAddress: string;
  /** When set, the whole domain is the identity (DKIM); otherwise the address itself. */
  readonly domain?: string;
  /**
   * Addresses and domains mail may go to. While the account is in the SES sandbox, SES also
   * authorises the *recipient* identity, so sending needs permission on these too.
   */
  readonly recipientAddresses: readonly string[];
  readonly recipientDomains: readonly string[];
}

export class ReportMail extends Construct {
  readonly identity: ses.EmailIdentity;
  readonly configurationSet: ses.ConfigurationSet;
  readonly fromAddress: string;
  private readonly props: ReportMailProps;

  constructor(scope: Construct, id: string, props: ReportMailProps) {
    super(scope, id);
    this.props = props;
    this.fromAddress = props.fromAddress;

    this.configurationSet = new ses.ConfigurationSet(this, 'ConfigurationSet', {
      // Reports carry personal data: refuse to hand them to a server that will not encrypt.
      tlsPolicy: ses.ConfigurationSetTlsPolicy.REQUIRE,
      reputationMetrics: true,
      sendingEnabled: true,
      suppressionReasons: ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
    });

    this.identity = new ses.EmailIdentity(this, 'Identity', {
      identity: props.domain ? ses.Identity.domain(props.domain) : ses.Identity.email(props.fromAddress),
      configurationSet: this.configurationSet,
    });
  }

  get isDomainIdentity(): boolean {
    return this.props.domain !== undefined;
  }

  get configurationSetArn(): string {
    return Stack.of(this).formatArn({
      service: 'ses',
      resource: 'configuration-set',
      resourceName: this.configurationSet.configurationSetName,
    });
  }

  /** ARNs of the recipient identities the sandbox checks; concrete names, no wildcards. */
  private recipientIdentityArns(): string[] {
    const stack = Stack.of(this);
    const names = new Set([
      ...this.props.recipientDomains.map((d) => d.toLowerCase()),
      ...this.props.recipientAddresses.map((a) => a.toLowerCase()),
    ]);
    // The sender identity is already listed; a recipient in the sender's own domain needs nothing more.
    names.delete((this.props.domain ?? this.props.fromAddress).toLowerCase());
    return [...names]
      .sort()
      .map((name) => stack.formatArn({ service: 'ses', resource: 'identity', resourceName: name }));
  }

  /** Send permission: only this identity (+ sandbox recipients) and this configuration set, only from MAIL_FROM. */
  grantSend(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'SendReportMailAsConfiguredSender',
        actions: ['ses:SendEmail', 'ses:SendRawEmail'],
        resources: [
          this.identity.emailIdentityArn,
          this.configurationSetArn,
          ...this.recipientIdentityArns(),
        ],
        conditions: { StringEquals: { 'ses:FromAddress': this.fromAddress } },
      }),
    );
  }
}

/** Every address the configuration may mail: recipients and owners of all definitions. */
export function configuredAddresses(
  definitions: readonly { recipients: string[]; owners: string[] }[],
): string[] {
  return [...new Set(definitions.flatMap((d) => [...d.recipients, ...d.owners]).map((a) => a.toLowerCase()))];
}
