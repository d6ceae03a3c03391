/**
 * @module errors
 * The one error catalog of the CLI. Every failure a command can stop with has a stable code and a
 * hint that says what to do next; src/cli/main.ts prints it as one line and exits 1.
 * docs/errors.md lists the same codes; a test keeps the two in step. (What an API client gets is a
 * Kubernetes Status instead: apimachinery/status.ts.)
 */

export interface ErrorSpec {
  /** What the user should do next. */
  readonly hint: string;
}

export const ERRORS = {
  KCM_ERR_USAGE: {
    hint: "run the command with --help to see its options",
  },
  KCM_ERR_PREREQ_MISSING: {
    hint: "install the missing program (see README.md, 'Prerequisites') and run again",
  },
  KCM_ERR_KUBE_BUILD: {
    hint: "read the build log named in the message; a network hiccup to the Go module proxy is retried by running again",
  },
  KCM_ERR_PORT_BUSY: {
    hint: "stop what listens there, or pick another port: --secure-port for serve; `k8s-custom-metrics local down` or --port-base for the local cluster",
  },
  KCM_ERR_COMPONENT_DIED: {
    hint: "read the component's log named in the message; `k8s-custom-metrics local status` shows every log",
  },
  KCM_ERR_COMPONENT_TIMEOUT: {
    hint: "the component did not become ready in time; read its log named in the message",
  },
  KCM_ERR_NOT_RUNNING: {
    hint: "start the local cluster with `k8s-custom-metrics local up`",
  },
  KCM_ERR_ALREADY_RUNNING: {
    hint: "the local cluster already runs in this state folder; use it, or stop it with `k8s-custom-metrics local down`",
  },
  KCM_ERR_KUBE_UNREACHABLE: {
    hint: "check --lister-kubeconfig (or the in-cluster service account) and that the API server answers",
  },
  KCM_ERR_CLUSTER_UNREACHABLE: {
    hint: "check --kubeconfig (or $KUBECONFIG, ~/.kube/config) and that the API server answers `kubectl version`",
  },
  KCM_ERR_PROMETHEUS_UNREACHABLE: {
    hint: "check --prometheus-url (and its credentials flags) and that Prometheus answers /api/v1/series",
  },
  KCM_ERR_CONFIG: {
    hint: "fix the configuration file at the line and column named, then start again",
  },
  KCM_ERR_AUTH_CONFIG: {
    hint: "grant the RoleBinding the message names, fix the CA file, or start with --authentication-tolerate-lookup-failure",
  },
  KCM_ERR_SERVING: {
    hint: "check --bind-address and --secure-port (or --insecure-http-port), and that --cert-dir is writable or --tls-cert-file and --tls-private-key-file (and each --tls-sni-cert-key) are a readable matching pair",
  },
  KCM_ERR_INTERNAL: {
    hint: "this is a bug: please report it with the command line and this message (K8SCM_DEBUG=1 adds the stack)",
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

export class KcmError extends Error {
  readonly code: ErrorCode;
  override readonly name: string = "KcmError";

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  get spec(): ErrorSpec {
    return ERRORS[this.code];
  }

  /** One readable line for a terminal: what happened, then what to do. */
  toLine(): string {
    return `${this.code}: ${this.message} (${this.spec.hint})`;
  }
}

export function isKcmError(e: unknown): e is KcmError {
  return e instanceof KcmError;
}
