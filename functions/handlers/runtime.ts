/**
 * Per-function runtime pieces created at module load: the Powertools logger that middy's
 * `injectLambdaContext` enriches with the invocation's context.
 */
import { Logger } from '@aws-lambda-powertools/logger';

export function moduleLogger(serviceName: string): Logger {
  // POWERTOOLS_SERVICE_NAME (set by the stack) wins over the default name.
  return new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? serviceName });
}
