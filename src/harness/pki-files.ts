/**
 * @module harness/pki-files
 * The local cluster's PKI on disk: cluster CA, apiserver serving cert, front-proxy CA and its
 * `front-proxy-client`, service-account keys, and client certs for each identity.
 */
import { generateKeyPairSync } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createCa, issue, type KeyPairPem } from "../pki/pki.ts";

export interface PkiFiles {
  readonly caCert: string;
  readonly caKey: string;
  readonly apiserverCert: string;
  readonly apiserverKey: string;
  readonly frontProxyCaCert: string;
  readonly frontProxyClientCert: string;
  readonly frontProxyClientKey: string;
  readonly saPub: string;
  readonly saKey: string;
  readonly adminCert: string;
  readonly adminKey: string;
}

export interface PkiMaterial {
  readonly ca: KeyPairPem;
  readonly admin: KeyPairPem;
  readonly controllerManager: KeyPairPem;
}

export function pkiFiles(dir: string): PkiFiles {
  const f = (n: string) => join(dir, n);
  return {
    caCert: f("ca.crt"),
    caKey: f("ca.key"),
    apiserverCert: f("apiserver.crt"),
    apiserverKey: f("apiserver.key"),
    frontProxyCaCert: f("front-proxy-ca.crt"),
    frontProxyClientCert: f("front-proxy-client.crt"),
    frontProxyClientKey: f("front-proxy-client.key"),
    saPub: f("sa.pub"),
    saKey: f("sa.key"),
    adminCert: f("admin.crt"),
    adminKey: f("admin.key"),
  };
}

async function put(file: string, content: string, mode = 0o600): Promise<void> {
  await writeFile(file, content, { mode });
}

/** Generates the whole PKI once; an existing state folder keeps its certificates. */
export async function ensurePki(dir: string): Promise<{ files: PkiFiles; fresh: boolean }> {
  const files = pkiFiles(dir);
  if (existsSync(files.adminKey)) return { files, fresh: false };
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const ca = await createCa("k8s-custom-metrics-local-ca");
  const frontProxyCa = await createCa("k8s-custom-metrics-front-proxy-ca");
  const apiserver = await issue(ca, {
    commonName: "kube-apiserver",
    dnsNames: [
      "localhost",
      "kubernetes",
      "kubernetes.default",
      "kubernetes.default.svc",
      "kubernetes.default.svc.cluster.local",
    ],
    ipAddresses: ["127.0.0.1", "::1", "10.96.0.1"],
    usage: "server",
  });
  // The aggregator presents this to extension API servers; its CN must be in allowed-names.
  const frontProxyClient = await issue(frontProxyCa, {
    commonName: "front-proxy-client",
    usage: "client",
  });
  const admin = await issue(ca, {
    commonName: "kubernetes-admin",
    organizations: ["system:masters"],
    usage: "client",
  });
  const sa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  await put(files.caCert, ca.certPem, 0o644);
  await put(files.caKey, ca.keyPem);
  await put(files.apiserverCert, apiserver.certPem, 0o644);
  await put(files.apiserverKey, apiserver.keyPem);
  await put(files.frontProxyCaCert, frontProxyCa.certPem, 0o644);
  await put(join(dir, "front-proxy-ca.key"), frontProxyCa.keyPem);
  await put(files.frontProxyClientCert, frontProxyClient.certPem, 0o644);
  await put(files.frontProxyClientKey, frontProxyClient.keyPem);
  await put(files.saPub, sa.publicKey.export({ type: "spki", format: "pem" }).toString(), 0o644);
  await put(files.saKey, sa.privateKey.export({ type: "pkcs8", format: "pem" }).toString());
  await put(files.adminCert, admin.certPem, 0o644);
  await put(files.adminKey, admin.keyPem);
  const kcm = await issue(ca, { commonName: "system:kube-controller-manager", usage: "client" });
  await put(join(dir, "controller-manager.crt"), kcm.certPem, 0o644);
  await put(join(dir, "controller-manager.key"), kcm.keyPem);
  return { files, fresh: true };
}
