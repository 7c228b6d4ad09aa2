/**
 * Per-function runtime pieces created at module load: the Powertools logger that middy's
 * `injectLambdaContext` enriches with the invocation's context, and the metrics that
 * `logMetrics` flushes (as CloudWatch embedded metric format) after every invocation.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { METRICS_NAMESPACE } from '../contract.js';

export function moduleLogger(serviceName: string): Logger {
  // POWERTOOLS_SERVICE_NAME (set by the stack) wins over the default name.
  return new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? serviceName });
}

/**
 * The deployed entry point around a handler: logger context, and one count metric per outcome
 * (`<prefix>.<status>`, e.g. `ScheduledRun.sent`, or `<prefix>.error` when it throws), which the
 * alarms and dashboards can use without parsing logs.
 */
export function lambdaEntry<E, R>(opts: {
  serviceName: string;
  metricPrefix: string;
  logger: Logger;
  run: (event: E) => Promise<R>;
  outcome: (result: R) => string;
}) {
  const metrics = new Metrics({
    namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE,
    serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? opts.serviceName,
  });
  return middy(async (event: E): Promise<R> => {
    try {
      const result = await opts.run(event);
      metrics.addMetric(`${opts.metricPrefix}.${opts.outcome(result)}`, MetricUnit.Count, 1);
      return result;
    } catch (err) {
      metrics.addMetric(`${opts.metricPrefix}.error`, MetricUnit.Count, 1);
      throw err;
    }
  })
    .use(injectLambdaContext(opts.logger, { resetKeys: true }))
    .use(logMetrics(metrics));
}
