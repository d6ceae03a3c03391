/**
 * @module auth/always-allow-paths
 * `--authorization-always-allow-paths`: non-resource paths allowed without a SubjectAccessReview
 * (k8s.io/apiserver pkg/authorization/path/path.go). A trailing `*` makes a prefix match; a `*`
 * anywhere else is refused.
 */
import type { RequestAttributes } from "./request-attributes.ts";

export const DEFAULT_ALWAYS_ALLOW_PATHS: readonly string[] = ["/healthz", "/readyz", "/livez"];

export type PathMatcher = (attrs: RequestAttributes) => boolean;

/** Throws Error on a `*` that is not the last character. */
export function alwaysAllowPathMatcher(patterns: readonly string[]): PathMatcher {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const raw of patterns) {
    const p = raw.replace(/^\//, "");
    if (p === "") {
      exact.add(p);
      continue;
    }
    if (p.slice(0, -1).includes("*"))
      throw new Error(`only trailing * allowed in ${JSON.stringify(p)}`);
    if (p.endsWith("*")) prefixes.push(p.slice(0, -1));
    else exact.add(p);
  }
  return (attrs) => {
    // Resource requests never match, whatever their path.
    if (attrs.kind === "resource") return false;
    const path = attrs.path.replace(/^\//, "");
    return exact.has(path) || prefixes.some((prefix) => path.startsWith(prefix));
  };
}
