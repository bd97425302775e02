/**
 * The lab's TLS material: a CA generated in memory for this run, and one server certificate whose
 * SANs cover every lab hostname, signed by that CA. Keys come from Node's `crypto` (fast, native);
 * node-forge only assembles and signs the X.509 structures. The CA private key never leaves this
 * process: it is not written anywhere and not part of the package.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

export interface LabCertificates {
  /** PEM of the run's CA certificate (what clients trust). */
  caCert: string;
  /** PEM of the server certificate (SANs: every lab hostname, localhost, 127.0.0.1, ::1). */
  cert: string;
  /** PEM (PKCS#1) of the server certificate's private key. */
  key: string;
}

function rsaKeyPair(): { publicPem: string; privatePem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  return { publicPem: publicKey, privatePem: privateKey };
}

/** A positive serial number (leading byte below 0x80), 16 bytes. */
function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
}

function validity(cert: forge.pki.Certificate): void {
  const now = Date.now();
  // A day of slack either side covers clock skew between this process and a client in a container.
  cert.validity.notBefore = new Date(now - 24 * 3600 * 1000);
  cert.validity.notAfter = new Date(now + 7 * 24 * 3600 * 1000);
}

export function createLabCertificates(hostnames: readonly string[]): LabCertificates {
  // The CA, fresh for this run.
  const caKeys = rsaKeyPair();
  const caPublic = forge.pki.publicKeyFromPem(caKeys.publicPem);
  const caPrivate = forge.pki.privateKeyFromPem(caKeys.privatePem);
  const ca = forge.pki.createCertificate();
  ca.publicKey = caPublic;
  ca.serialNumber = serial();
  validity(ca);
  const caSubject = [
    { name: 'commonName', value: `hopwise lab CA (this run only, ${new Date().toISOString()})` },
    { name: 'organizationName', value: 'hopwise lab' },
  ];
  ca.setSubject(caSubject);
  ca.setIssuer(caSubject);
  ca.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  ca.sign(caPrivate, forge.md.sha256.create());

  // The server certificate: one leaf for every lab hostname.
  const leafKeys = rsaKeyPair();
  const leaf = forge.pki.createCertificate();
  leaf.publicKey = forge.pki.publicKeyFromPem(leafKeys.publicPem);
  leaf.serialNumber = serial();
  validity(leaf);
  leaf.setSubject([
    { name: 'commonName', value: hostnames[0] ?? 'localhost' },
    { name: 'organizationName', value: 'hopwise lab' },
  ]);
  leaf.setIssuer(caSubject);
  const altNames: Array<{ type: number; value?: string; ip?: string }> = [
    ...hostnames.map((value) => ({ type: 2, value })), // dNSName
    { type: 2, value: 'localhost' },
    { type: 7, ip: '127.0.0.1' }, // iPAddress
    { type: 7, ip: '::1' },
  ];
  leaf.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.generateSubjectKeyIdentifier().getBytes() },
  ]);
  leaf.sign(caPrivate, forge.md.sha256.create());

  return {
    caCert: forge.pki.certificateToPem(ca),
    cert: forge.pki.certificateToPem(leaf),
    key: leafKeys.privatePem,
  };
}
