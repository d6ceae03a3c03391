/**
 * @module diagnostics/aggregation-layer
 * Whether kube-apiserver runs with the aggregation layer configured, from what it publishes in
 * kube-system/extension-apiserver-authentication: the front-proxy CA and the header names an
 * extension server must trust. kube-apiserver writes the requestheader keys only when
 * `--requestheader-client-ca-file` is set, and has no default header names.
 */
import { X509Certificate } from "node:crypto";
import type { Check } from "./checks.ts";

const SECTION = "aggregation layer";
const CM = "kube-system/extension-apiserver-authentication";

function jsonList(v: string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(v);
    return Array.isArray(parsed) ? parsed.map(String) : undefined;
  } catch {
    return undefined;
  }
}

/** The first certificate of a PEM bundle, or undefined when there is none. */
function firstCert(pem: string): X509Certificate | undefined {
  const m = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem);
  if (!m) return undefined;
  try {
    return new X509Certificate(m[0]);
  } catch {
    return undefined;
  }
}

const FLAGS =
  "start kube-apiserver with --requestheader-client-ca-file, --requestheader-allowed-names=front-proxy-client, --requestheader-username-headers=X-Remote-User, --requestheader-group-headers=X-Remote-Group, --requestheader-extra-headers-prefix=X-Remote-Extra-, --proxy-client-cert-file and --proxy-client-key-file (kubeadm and managed clusters do)";

/**
 * Checks the ConfigMap's data. `data` undefined means it could not be read; `readError` says why.
 */
export function judgeAggregationLayer(
  data: Readonly<Record<string, string>> | undefined,
  readError: string | undefined,
  now: Date,
): Check[] {
  if (data === undefined) {
    return [
      {
        section: SECTION,
        status: "fail",
        kind: "configmap-unreadable",
        title: `${CM} cannot be read`,
        cause: readError ?? "the ConfigMap does not exist",
        fix: `kube-apiserver writes it at start; if it is missing, the API server is not running with the aggregation layer: ${FLAGS}`,
      },
    ];
  }
  const ca = data["requestheader-client-ca-file"];
  if (ca === undefined || ca.trim() === "") {
    return [
      {
        section: SECTION,
        status: "fail",
        kind: "no-requestheader-ca",
        title: `${CM} has no requestheader-client-ca-file`,
        cause:
          "kube-apiserver runs without --requestheader-client-ca-file, so the aggregation layer is off: no extension server can trust the API server's proxied requests",
        fix: FLAGS,
      },
    ];
  }
  const out: Check[] = [];
  const users = jsonList(data["requestheader-username-headers"]) ?? [];
  const groups = jsonList(data["requestheader-group-headers"]) ?? [];
  const allowed = jsonList(data["requestheader-allowed-names"]) ?? [];
  const missing = [
    ...(users.length === 0 ? ["requestheader-username-headers"] : []),
    ...(groups.length === 0 ? ["requestheader-group-headers"] : []),
  ];
  if (missing.length > 0) {
    out.push({
      section: SECTION,
      status: "fail",
      kind: "no-requestheader-headers",
      title: `${CM} lacks ${missing.join(" and ")}`,
      cause:
        "kube-apiserver has no default header names, so extension servers do not know which headers carry the user: every proxied request is anonymous",
      fix: FLAGS,
    });
  }
  const cert = firstCert(ca);
  const until = cert ? new Date(cert.validTo) : undefined;
  if (cert === undefined) {
    out.push({
      section: SECTION,
      status: "fail",
      kind: "bad-requestheader-ca",
      title: `${CM} requestheader-client-ca-file holds no readable certificate`,
      cause: "the front-proxy CA published by kube-apiserver cannot be parsed",
      fix: "check the file given to --requestheader-client-ca-file",
    });
  } else if (until !== undefined && until < now) {
    out.push({
      section: SECTION,
      status: "fail",
      kind: "requestheader-ca-expired",
      title: `front-proxy CA ${cert.subject.replace(/\n/g, ", ")} expired on ${until.toISOString().slice(0, 10)}`,
      cause: "extension servers reject the API server's front-proxy client certificate",
      fix: "rotate the front-proxy CA and client certificate (kubeadm certs renew front-proxy-client, or your platform's procedure)",
    });
  }
  if (out.length === 0) {
    out.push({
      section: SECTION,
      status: "ok",
      title: `${CM}: requestheader CA ${cert?.subject.replace(/\n/g, ", ") ?? ""} (until ${until?.toISOString().slice(0, 10) ?? "?"}), user headers ${users.join(",")}, group headers ${groups.join(",")}, allowed names ${allowed.length === 0 ? "any" : allowed.join(",")}`,
    });
  }
  return out;
}
