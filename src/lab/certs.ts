/**
 * The lab's TLS material: a CA generated in memory for this run, and one server certificate whose
 * SANs cover every lab hostname, signed by that CA. Keys come from Node's `crypto` (fast, native);
 * node-forge only assembles and signs the X.509 structures. The CA private key never leaves this
 * process: it is not written anywhere and not part of the package.
 */
import { generateKeyPair, generateKeyPairSync, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
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

/** A CA generated in memory: its certificate (PEM and forge object) and its private key (forge, never written). */
export interface GeneratedCa {
  certPem: string;
  cert: forge.pki.Certificate;
  privateKey: forge.pki.rsa.PrivateKey;
}

/** A fresh self-signed CA for one run (`hopwise lab`, `hopwise record`). */
export function createCa(commonName: string, organizationName = 'hopwise lab', keys: KeyPair = rsaKeyPair()): GeneratedCa {
  const privateKey = forge.pki.privateKeyFromPem(keys.privatePem);
  const ca = forge.pki.createCertificate();
  ca.publicKey = forge.pki.publicKeyFromPem(keys.publicPem);
  ca.serialNumber = serial();
  validity(ca);
  const subject = [
    { name: 'commonName', value: commonName },
    { name: 'organizationName', value: organizationName },
  ];
  ca.setSubject(subject);
  ca.setIssuer(subject);
  ca.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  ca.sign(privateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(ca), cert: ca, privateKey };
}

export interface KeyPair {
  publicPem: string;
  privatePem: string;
}

/** An RSA key pair for server certificates (PEM); one may serve many certificates. */
export function serverKeyPair(): KeyPair {
  return rsaKeyPair();
}

/** The same, generated on libuv's thread pool: two of them run in parallel. */
export function serverKeyPairAsync(): Promise<KeyPair> {
  return new Promise((resolve, reject) =>
    generateKeyPair('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs1', format: 'pem' } }, (err, publicPem, privatePem) =>
      err ? reject(err) : resolve({ publicPem, privatePem }),
    ),
  );
}

/**
 * A server certificate for `hostnames` (DNS names; IP literals become iPAddress SANs), signed by `ca`,
 * for the key pair `keys`. Returns its PEM.
 */
export function issueServerCertificate(ca: GeneratedCa, hostnames: readonly string[], keys: { publicPem: string }, organizationName = 'hopwise lab'): string {
  const leaf = forge.pki.createCertificate();
  leaf.publicKey = forge.pki.publicKeyFromPem(keys.publicPem);
  leaf.serialNumber = serial();
  validity(leaf);
  leaf.setSubject([
    { name: 'commonName', value: hostnames[0] ?? 'localhost' },
    { name: 'organizationName', value: organizationName },
  ]);
  leaf.setIssuer(ca.cert.subject.attributes);
  const altNames = hostnames.map((h) => (isIP(h) ? { type: 7, ip: h } : { type: 2, value: h })); // iPAddress / dNSName
  leaf.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.cert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  leaf.sign(ca.privateKey, forge.md.sha256.create());
  return forge.pki.certificateToPem(leaf);
}

export function createLabCertificates(hostnames: readonly string[]): LabCertificates {
  // The CA, fresh for this run; one server certificate for every lab hostname.
  const ca = createCa(`hopwise lab CA (this run only, ${new Date().toISOString()})`);
  const leafKeys = rsaKeyPair();
  const cert = issueServerCertificate(ca, [...hostnames, 'localhost', '127.0.0.1', '::1'], leafKeys);
  return { caCert: ca.certPem, cert, key: leafKeys.privatePem };
}
