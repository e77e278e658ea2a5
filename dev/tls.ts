/**
 * Self-signed server certificates for the local stack's HTTPS servers (ARM emulator, OIDC issuer), generated at
 * start: clients trust one with `tlsOptions: { ca: certPem }` (or PORTCULLIS_AUTH_CA_FILE).
 */
import { generate } from "selfsigned";

export interface ServerCertificate {
  readonly certPem: string;
  readonly keyPem: string;
}

/** EC P-256 (fast to generate), named `commonName`, valid for 127.0.0.1, ::1 and localhost, for 30 days from now. */
export async function createServerCertificate(commonName: string): Promise<ServerCertificate> {
  const notBeforeDate = new Date(Date.now() - 60_000);
  const notAfterDate = new Date(notBeforeDate.getTime() + 30 * 24 * 3600 * 1000);
  const pems = await generate([{ name: "commonName", value: commonName }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: "basicConstraints", cA: true, critical: true },
      { name: "keyUsage", digitalSignature: true, keyCertSign: true, critical: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          { type: 7, ip: "127.0.0.1" },
          { type: 7, ip: "::1" },
          { type: 2, value: "localhost" },
        ],
      },
    ],
  });
  return { certPem: pems.cert, keyPem: pems.private };
}
