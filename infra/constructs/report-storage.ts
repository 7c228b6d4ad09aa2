/**
 * Where reports and run state live: the reports bucket (plus its access-log bucket) and the
 * DynamoDB table holding day claims and report status.
 */
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { REPORTS_PREFIX, STATE_TABLE } from '../../functions/contract.js';

/** Every object the functions write or read is under this prefix; IAM is scoped to it. */

export interface ReportStorageProps {
  /** Days before the lifecycle rule deletes a report's files. */
  readonly reportRetentionDays: number;
  readonly removalPolicy: RemovalPolicy;
}

export class ReportStorage extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogsBucket: s3.Bucket;
  readonly table: dynamodb.Table;
  /** GSI listing a day's reports (`GET /reports?date=`). */
  static readonly BY_DATE_INDEX = STATE_TABLE.byDateIndex;

  constructor(scope: Construct, id: string, props: ReportStorageProps) {
    super(scope, id);

    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // Access logs are kept a year: long enough to answer "who downloaded this report".
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(365) }],
      removalPolicy: props.removalPolicy,
    });

    this.bucket = new s3.Bucket(this, 'Reports', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      // SSE-S3: reports are encrypted at rest with no key policy to keep in step with the
      // presigned-URL downloads. Access control is IAM plus the bucket policy; a KMS key would
      // add cost and a second permission to every download without narrowing who can read.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // No versioning: every run writes new keys under its own report id and never overwrites,
      // so versions would only keep deleted personal data past its retention.
      versioned: false,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'reports-bucket/',
      lifecycleRules: [
        {
          id: 'expire-reports',
          prefix: REPORTS_PREFIX,
          expiration: Duration.days(props.reportRetentionDays),
        },
        {
          // A failed or killed run leaves parts that are billed but invisible.
          id: 'abort-incomplete-uploads',
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      removalPolicy: props.removalPolicy,
    });

    // The key schema is the one the functions query (functions/contract.ts STATE_TABLE), not a copy.
    this.table = new dynamodb.Table(this, 'State', {
      partitionKey: { name: STATE_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: STATE_TABLE.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: STATE_TABLE.ttlAttribute,
      removalPolicy: props.removalPolicy,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: ReportStorage.BY_DATE_INDEX,
      partitionKey: { name: STATE_TABLE.indexPartitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: STATE_TABLE.indexSortKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
    // Sparse: only run records that still need the sweeper (running, sending, unknown, failed).
    this.table.addGlobalSecondaryIndex({
      indexName: STATE_TABLE.openIndex,
      partitionKey: { name: STATE_TABLE.openIndexPartitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: STATE_TABLE.openIndexSortKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
  }

  /** ARN pattern of every object under the reports prefix. */
  reportsObjectsArn(): string {
    return this.bucket.arnForObjects(`${REPORTS_PREFIX}*`);
  }
}
