/**
 * @module auth/types
 * The transport-independent shapes the auth modules share: who the caller is (user.Info in
 * k8s.io/apiserver pkg/authentication/user) and what the server saw of the request.
 */
import type { X509Certificate } from "node:crypto";
import type { KubeClient } from "../kube/client.ts";

/** user.DefaultInfo. */
export interface UserInfo {
  name: string;
  uid?: string;
  groups: string[];
  extra: Record<string, string[]>;
}

/** Header values as Node gives them; names are matched case-insensitively. */
export type AuthHeaders = Record<string, string | string[] | undefined>;

/** What authentication and authorization need from one HTTP request. */
import type { RequestTarget } from "../apimachinery/request-target.ts";

export interface AuthRequest {
  /**
   * Prefer `req.headersDistinct` (HTTP/1) or {@link headersFromRaw}`(req.rawHeaders)` (HTTP/1 and
   * 2): plain `req.headers` joins repeated X-Remote-Group headers into one "a, b" value.
   */
  headers: AuthHeaders;
  /** Leaf first, then the chain as the client presented it (see auth/peer-certificates). */
  peerCertificates: X509Certificate[];
  method: string;
  /** The request target, parsed once: the router serves exactly this (apimachinery/request-target). */
  target: RequestTarget;
}

/** The one call the auth modules make to the API server; a KubeClient, or a fake in tests. */
export type KubeJson = Pick<KubeClient, "json">;

/** Injected clock (milliseconds since the epoch), so cache TTLs are testable. */
export type Clock = () => number;

/**
 * One authenticator's answer, Go's `(resp, ok, err)`: a user; no opinion (the request carries no
 * credential of this kind); or a credential of this kind that failed, with a reason for logs.
 */
export type AuthenticatorAttempt =
  | { readonly kind: "user"; readonly user: UserInfo }
  | { readonly kind: "skip"; readonly note?: string }
  | { readonly kind: "error"; readonly reason: string };
