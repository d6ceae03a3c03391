/**
 * @module test/support/apiserver-metrics
 * Figures read from kube-apiserver's own /metrics text.
 */

/** SubjectAccessReviews created (any client): the sum of apiserver_request_total's POSTs of them. */
export function subjectAccessReviewsCreated(metricsText: string): number {
  let n = 0;
  for (const line of metricsText.split("\n")) {
    if (
      line.startsWith("apiserver_request_total{") &&
      line.includes('resource="subjectaccessreviews"') &&
      line.includes('verb="POST"')
    ) {
      n += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return n;
}
