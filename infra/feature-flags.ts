/**
 * CDK feature flags this app relies on, set in code (cdk.json's context holds only the
 * configuration) so the unit tests synthesise exactly what `cdk synth` does.
 */
export const FEATURE_FLAGS = {
  // Grant S3 log delivery through a bucket policy rather than an ACL: ACLs are disabled on
  // buckets with ObjectOwnership=BucketOwnerEnforced, so the ACL route would fail at deploy.
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
  '@aws-cdk/aws-s3:createDefaultLoggingPolicy': true,
} as const;
