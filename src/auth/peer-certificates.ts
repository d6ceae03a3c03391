/**
 * @module auth/peer-certificates
 * The client's certificate chain from a TLS socket, as node:crypto X509Certificates (leaf first).
 * `getPeerX509Certificate()` returns only the leaf; intermediates come from the legacy chain.
 * Parsing costs more than the rest of a cached request, so {@link connectionPeerCertificates}
 * does it once per connection.
 */
import { X509Certificate } from "node:crypto";
import type { DetailedPeerCertificate, TLSSocket } from "node:tls";

export function peerCertificates(socket: Pick<TLSSocket, "getPeerCertificate">): X509Certificate[] {
  const out: X509Certificate[] = [];
  const seen = new Set<string>();
  // The typings promise more than the runtime gives: `{}` without a cert, no issuer at the end.
  let cert: Partial<DetailedPeerCertificate> | undefined = socket.getPeerCertificate(true);
  // An empty object means no client certificate; the chain ends where a cert is its own issuer.
  while (cert?.raw !== undefined && out.length < 10) {
    const key = cert.raw.toString("base64");
    if (seen.has(key)) break;
    seen.add(key);
    out.push(new X509Certificate(cert.raw));
    cert = cert.issuerCertificate;
  }
  return out;
}

const byConnection = new WeakMap<object, X509Certificate[]>();

/**
 * {@link peerCertificates}, parsed once per connection (`connection`: the TLS socket, or the
 * HTTP/2 session every stream of the connection shares). A connection's client certificate
 * cannot change: the server turns TLS renegotiation off (server/secure-serving), as Go does.
 * The array is shared: do not mutate it.
 */
export function connectionPeerCertificates(
  connection: object,
  socket: Pick<TLSSocket, "getPeerCertificate">,
): X509Certificate[] {
  let certs = byConnection.get(connection);
  if (certs === undefined) {
    certs = peerCertificates(socket);
    byConnection.set(connection, certs);
  }
  return certs;
}
