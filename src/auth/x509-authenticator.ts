/**
 * @module auth/x509-authenticator
 * Plain client-certificate authentication against `client-ca-file`: CN is the user, O entries are
 * the groups (k8s.io/apiserver pkg/authentication/request/x509/x509.go, CommonNameUserConversion).
 */
import { subjectValues, verifyClientChain } from "./cert-chain.ts";
import type { AuthRequest, AuthenticatorAttempt } from "./types.ts";
import type { X509Certificate } from "node:crypto";

export function authenticateX509(
  req: AuthRequest,
  clientCa: readonly X509Certificate[],
  now: number = Date.now(),
): AuthenticatorAttempt {
  const leaf = req.peerCertificates[0];
  if (clientCa.length === 0 || leaf === undefined) return { kind: "skip" };
  const verified = verifyClientChain(req.peerCertificates, clientCa, now);
  if (!verified.ok) return { kind: "error", reason: `client certificate: ${verified.reason}` };
  const name = subjectValues(leaf, "CN")[0] ?? "";
  if (name === "") return { kind: "skip" };
  return { kind: "user", user: { name, groups: subjectValues(leaf, "O"), extra: {} } };
}
