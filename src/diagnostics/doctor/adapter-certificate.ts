/**
 * @module diagnostics/doctor/adapter-certificate
 * The adapter's serving certificate as the aggregator meets it: fetched from its address, checked
 * against each distinct caBundle of the APIServices it serves, then judged (serving-cert.ts).
 */
import type { DirectAddress } from "../adapter-endpoint.ts";
import {
  certFacts,
  fetchPeerCertificate,
  judgeServingCert,
  type ChainVerdict,
} from "../serving-cert.ts";
import type { DoctorContext } from "./context.ts";
import { errorText, type ApiServiceJson } from "./types.ts";

export async function adapterCertificate(
  d: DoctorContext,
  section: string,
  addr: DirectAddress,
  mine: readonly ApiServiceJson[],
): Promise<DirectAddress | undefined> {
  let peer;
  try {
    peer = await fetchPeerCertificate(
      addr.host,
      addr.port,
      addr.servername,
      undefined,
      d.o.timeoutMs,
    );
  } catch (e) {
    d.checks.push({
      section,
      status: "skip",
      title: `cannot connect to ${addr.host}:${String(addr.port)} (${addr.via}) from here: ${errorText(e)}; certificate not checked`,
    });
    return undefined;
  }
  const bundles = new Map<string, string[]>();
  const unverified: string[] = [];
  for (const a of mine) {
    if (a.spec.insecureSkipTLSVerify === true || !a.spec.caBundle) unverified.push(a.metadata.name);
    else bundles.set(a.spec.caBundle, [...(bundles.get(a.spec.caBundle) ?? []), a.metadata.name]);
  }
  const verdicts: ChainVerdict[] = [];
  if (unverified.length > 0) verdicts.push({ apiServices: unverified, outcome: "unverified" });
  for (const [bundle, names] of bundles) {
    const ca = Buffer.from(bundle, "base64").toString("utf8");
    try {
      const p = await fetchPeerCertificate(
        addr.host,
        addr.port,
        addr.servername,
        ca,
        d.o.timeoutMs,
      );
      verdicts.push(
        p.error === null
          ? { apiServices: names, outcome: "chains" }
          : { apiServices: names, outcome: "mismatch", error: p.error },
      );
    } catch (e) {
      verdicts.push({ apiServices: names, outcome: "mismatch", error: errorText(e) });
    }
  }
  try {
    d.checks.push(
      ...judgeServingCert(
        certFacts(peer.pem, addr.servername),
        addr.servername,
        verdicts,
        d.now,
        section,
      ),
    );
  } catch (e) {
    d.checks.push({
      section,
      status: "fail",
      kind: "cert-unreadable",
      title: `serving certificate cannot be read: ${errorText(e)}`,
    });
  }
  return addr;
}
