/**
 * @module diagnostics/apiservice-failure
 * Why an APIService is not Available, from its condition: kube-aggregator's availability
 * controller (pkg/controllers/status/remote/remote_available_controller.go) writes a reason and a
 * Go error text; this turns them into a cause a user recognizes and the fix.
 */

export type ApiServiceFailureKind =
  | "service-not-found"
  | "service-port"
  | "no-endpoints"
  | "access-error"
  | "tls-unknown-authority"
  | "tls-name-mismatch"
  | "tls-expired"
  | "tls-handshake"
  | "unauthorized"
  | "forbidden"
  | "not-served"
  | "adapter-error"
  | "connection-refused"
  | "timeout"
  | "dns"
  | "unknown";

export interface ApiServiceFailure {
  readonly kind: ApiServiceFailureKind;
  readonly cause: string;
  readonly fix: string;
}

export interface ApiServiceContext {
  /** `v1beta1.custom.metrics.k8s.io`. */
  readonly name: string;
  readonly group: string;
  readonly version: string;
  readonly service?: { readonly namespace: string; readonly name: string } | undefined;
  /** `namespace:name` of the adapter's service account, for RBAC commands, when known. */
  readonly serviceAccount?: string | undefined;
}

function svc(ctx: ApiServiceContext): string {
  return ctx.service ? `${ctx.service.namespace}/${ctx.service.name}` : "(none)";
}

function dnsName(ctx: ApiServiceContext): string {
  return ctx.service
    ? `${ctx.service.name}.${ctx.service.namespace}.svc`
    : "<service>.<namespace>.svc";
}

function bindings(ctx: ApiServiceContext): string {
  const sa = ctx.serviceAccount ?? "NAMESPACE:SERVICEACCOUNT";
  const short = sa.split(":")[1] ?? "adapter";
  return `kubectl create rolebinding -n kube-system ${short}-auth-reader --role=extension-apiserver-authentication-reader --serviceaccount=${sa} and kubectl create clusterrolebinding ${short}:system:auth-delegator --clusterrole=system:auth-delegator --serviceaccount=${sa}, then restart the adapter`;
}

/** The HTTP status in "bad status from https://…: 403". */
function badStatus(message: string): number | undefined {
  const m = /bad status from \S+: (\d{3})/.exec(message);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

/** Decodes an Available=False (or Unknown) condition. */
export function decodeApiServiceFailure(
  condition: { readonly reason?: string | undefined; readonly message?: string | undefined },
  ctx: ApiServiceContext,
): ApiServiceFailure {
  const reason = condition.reason ?? "";
  const message = condition.message ?? "";
  const service = svc(ctx);
  switch (reason) {
    case "ServiceNotFound":
      return {
        kind: "service-not-found",
        cause: `the APIService sends ${ctx.group} to Service ${service}, which does not exist`,
        fix: `create the adapter's Service, or point the APIService at it: kubectl patch apiservice ${ctx.name} --type=merge -p '{"spec":{"service":{"namespace":"NAMESPACE","name":"SERVICE"}}}'`,
      };
    case "ServicePortError":
      return {
        kind: "service-port",
        cause: `Service ${service} has no port ${/port (\d+)/.exec(message)?.[1] ?? "(the APIService's port)"}, the one the APIService names`,
        fix: `set spec.service.port of APIService ${ctx.name} to one of the Service's ports (443 unless changed), or add that port to the Service`,
      };
    case "EndpointsNotFound":
    case "MissingEndpoints":
      return {
        kind: "no-endpoints",
        cause: `no ready endpoint behind Service ${service}: the adapter is not running or not Ready, or the Service's selector (or port name) matches no pod`,
        fix: `kubectl -n ${ctx.service?.namespace ?? "NAMESPACE"} get pods,endpointslices -o wide; start the adapter or fix the Service's selector and port names`,
      };
    case "ServiceAccessError":
    case "EndpointsAccessError":
      return {
        kind: "access-error",
        cause: `the aggregator could not read Service ${service} or its EndpointSlices: ${message}`,
        fix: "read the kube-apiserver log; this is usually transient",
      };
    default:
      break;
  }
  if (
    /x509: certificate signed by unknown authority|certificate signed by unknown authority/.test(
      message,
    )
  ) {
    return {
      kind: "tls-unknown-authority",
      cause: `the adapter's serving certificate is not signed by APIService ${ctx.name}'s caBundle (x509: certificate signed by unknown authority)`,
      fix: `set spec.caBundle to the base64 PEM of the CA that signed the serving certificate (or let your certificate tool inject it, e.g. cert-manager's cainjector annotation); kubectl patch apiservice ${ctx.name} --type=merge -p '{"spec":{"caBundle":"'$(base64 -w0 ca.crt)'"}}'`,
    };
  }
  const names = /x509: certificate is valid for (.*), not (\S+)/.exec(message);
  if (names) {
    return {
      kind: "tls-name-mismatch",
      cause: `the serving certificate names ${names[1] ?? ""} but not ${names[2] ?? dnsName(ctx)}, the name the aggregator checks (<service>.<namespace>.svc of the APIService's Service)`,
      fix: `reissue the serving certificate with ${names[2] ?? dnsName(ctx)} among its DNS names, or point the APIService at the Service the certificate was made for`,
    };
  }
  if (/x509: certificate has expired or is not yet valid/.test(message)) {
    return {
      kind: "tls-expired",
      cause:
        "the adapter's serving certificate has expired (or is not valid yet: check the clocks)",
      fix: "renew the serving certificate and its caBundle; the adapter re-reads --tls-cert-file when the file changes",
    };
  }
  const status = badStatus(message);
  if (status === 401) {
    return {
      kind: "unauthorized",
      cause:
        "the adapter answered 401: it does not trust the aggregator's front-proxy client certificate, because it could not read kube-system/extension-apiserver-authentication (no RoleBinding to extension-apiserver-authentication-reader, or --authentication-skip-lookup), or the certificate's CN is not in requestheader-allowed-names",
      fix: bindings(ctx),
    };
  }
  if (status === 403) {
    return {
      kind: "forbidden",
      cause:
        "the adapter answered 403: it authorized the aggregator's probe as an anonymous user, or could not ask the API server (SubjectAccessReview); usually the ClusterRoleBinding to system:auth-delegator or the RoleBinding to extension-apiserver-authentication-reader is missing",
      fix: bindings(ctx),
    };
  }
  if (status === 404) {
    return {
      kind: "not-served",
      cause: `the server behind Service ${service} answers but does not serve ${ctx.group}/${ctx.version} (an adapter without rules for this API, e.g. no externalRules or resourceRules, or another program)`,
      fix: `enable ${ctx.group} in the adapter's config, or delete the APIService: kubectl delete apiservice ${ctx.name}`,
    };
  }
  if (status !== undefined && status >= 500) {
    return {
      kind: "adapter-error",
      cause: `the adapter answered ${String(status)} to the aggregator's discovery request`,
      fix: "read the adapter's log",
    };
  }
  if (/connection refused/.test(message)) {
    return {
      kind: "connection-refused",
      cause: `nothing listens where Service ${service} leads (${/dial tcp (\S+)/.exec(message)?.[1] ?? "its address"}): the adapter is down, or the port or targetPort is wrong`,
      fix: "start the adapter, and check that the Service's targetPort is the adapter's --secure-port",
    };
  }
  if (/no such host|server misbehaving/.test(message)) {
    return {
      kind: "dns",
      cause: `the API server cannot resolve the host behind Service ${service}`,
      fix: "check the Service's externalName, or the API server's DNS",
    };
  }
  if (/timed out|Timeout|i\/o timeout|deadline exceeded|no route to host/.test(message)) {
    return {
      kind: "timeout",
      cause: `the API server cannot reach the adapter behind Service ${service} in time: a NetworkPolicy, the CNI, or an API server host without routes to pod IPs (common with managed control planes)`,
      fix: "allow traffic from the control plane to the adapter's port (NetworkPolicy, firewall); on clusters whose API server cannot reach pods, run the adapter with hostNetwork",
    };
  }
  if (/tls:|remote error|handshake/.test(message)) {
    return {
      kind: "tls-handshake",
      cause: `the TLS handshake with the adapter failed: ${message}`,
      fix: "check the adapter's --tls-cert-file, --tls-private-key-file and --tls-min-version",
    };
  }
  return {
    kind: "unknown",
    cause: message === "" ? `Available is not True (${reason || "no reason given"})` : message,
    fix: `kubectl describe apiservice ${ctx.name}, and read the kube-apiserver and adapter logs`,
  };
}
