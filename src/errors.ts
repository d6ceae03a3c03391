/**
 * @module errors
 * The one error catalog. Every failure a user can meet has a stable code, an HTTP status (for the
 * server) and a hint that says what to do next. docs/errors.md lists the same codes; a test keeps
 * the two in step.
 */

export interface ErrorSpec {
  /** HTTP status when the error reaches an API client. */
  readonly status: number;
  /** Kubernetes Status reason. */
  readonly reason: string;
  /** What the user should do next. */
  readonly hint: string;
}

export const ERRORS = {
  KCM_ERR_USAGE: {
    status: 400,
    reason: "BadRequest",
    hint: "run the command with --help to see its options",
  },
  KCM_ERR_PREREQ_MISSING: {
    status: 500,
    reason: "InternalError",
    hint: "install the missing program (see README.md, 'Prerequisites') and run again",
  },
  KCM_ERR_KUBE_BUILD: {
    status: 500,
    reason: "InternalError",
    hint: "read the build log named in the message; a network hiccup to the Go module proxy is retried by running again",
  },
  KCM_ERR_PORT_BUSY: {
    status: 500,
    reason: "InternalError",
    hint: "stop what listens there (or run `k8s-custom-metrics local down`), or pick other ports with --port-base",
  },
  KCM_ERR_COMPONENT_DIED: {
    status: 500,
    reason: "InternalError",
    hint: "read the component's log named in the message; `k8s-custom-metrics local status` shows every log",
  },
  KCM_ERR_COMPONENT_TIMEOUT: {
    status: 500,
    reason: "InternalError",
    hint: "the component did not become ready in time; read its log named in the message",
  },
  KCM_ERR_NOT_RUNNING: {
    status: 500,
    reason: "InternalError",
    hint: "start the local cluster with `k8s-custom-metrics local up`",
  },
  KCM_ERR_ALREADY_RUNNING: {
    status: 500,
    reason: "InternalError",
    hint: "the local cluster already runs in this state folder; use it, or stop it with `k8s-custom-metrics local down`",
  },
  KCM_ERR_KUBE_UNREACHABLE: {
    status: 503,
    reason: "ServiceUnavailable",
    hint: "check --lister-kubeconfig (or the in-cluster service account) and that the API server answers",
  },
  KCM_ERR_CLUSTER_UNREACHABLE: {
    status: 503,
    reason: "ServiceUnavailable",
    hint: "check --kubeconfig (or $KUBECONFIG, ~/.kube/config) and that the API server answers `kubectl version`",
  },
  KCM_ERR_CONFIG: {
    status: 500,
    reason: "InternalError",
    hint: "fix the configuration file at the line and column named, then start again",
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

export class KcmError extends Error {
  readonly code: ErrorCode;
  override readonly name = "KcmError";

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
