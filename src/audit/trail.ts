import { createHash, createPublicKey, verify as verifySignature, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../common/clock.js';
import { JpkiError } from '../common/errors.js';
import { writeFileAtomic } from '../compose/data-dir.js';
import { isKmsError, type KeyManager } from '../kms/index.js';
import { digestOf, type KeySpec, type SignatureAlgorithm } from '../pki/signer.js';
import { checkpointMessage, type AuditCheckpoint, type AuditLog, type CertificateKind } from '../store/index.js';

/** The audit key: its own key in the key store, ECDSA P-256 (small, fast signatures), label `audit`. */
export const AUDIT_KEY_LABEL = 'audit';
const AUDIT_KEY_SPEC: KeySpec = { type: 'EC', curve: 'P-256' };
/** Where the audit key's public key is pinned, outside the database: `<data>/audit-key.json`. */
export const AUDIT_KEY_FILE = 'audit-key.json';
/** The newest checkpoint this installation signed, mirrored outside the database. */
export const AUDIT_CHECKPOINT_FILE = 'audit-checkpoint.json';

/** What the cross-check reads of the CA's data: every certificate's identity and state. */
export interface CertificateCensus {
  census(): AsyncGenerator<{ caId: string; serial: string; kind: CertificateKind; revokedAt: number | null }[]>;
}

export interface AuditTrailDeps {
  log: AuditLog;
  keys: KeyManager;
  /** The audit key's URI in this key store (soft:audit, pkcs11:token=…;object=audit). */
  keyUri: string;
  clock: Clock;
  /** The data directory: the pinned public key and the mirrored checkpoint live there. */
  dataDir: string;
  certificates: CertificateCensus;
}

export interface AuditReport {
  ok: boolean;
  /** Records in the chain. */
  records: number;
  headSeq: number;
  headHash: string;
  checkpoints: { total: number; verified: number; latestSeq: number | null; otherKeys: number };
  certificatesChecked: number;
  /** Every problem found, first ones first (at most 50 listed). */
  problems: string[];
}

/**
 * The audit trail's integrity (issue 10, hole 6): signed checkpoints of the chain head with the audit key,
 * and a verification that needs nothing but the database and the audit public key — the chain link by
 * link, every checkpoint (signature, and the record it names still has the hash it signed), the newest
 * checkpoint mirrored in the data directory, and the certificates' status against the audit records.
 * Deleting the newest records, or changing one and re-hashing the rest, fails it.
 */
export class AuditTrail {
  private timer: NodeJS.Timeout | undefined;
  private key: Promise<{ uri: string; spki: Buffer; keyId: string }> | undefined;

  constructor(private readonly deps: AuditTrailDeps) {}

  /** Chains what is pending and, when the head moved since the last checkpoint, signs a new one. */
  async checkpoint(): Promise<AuditCheckpoint | undefined> {
    const { log, keys, clock } = this.deps;
    await log.settle();
    const head = await log.head();
    const latest = await log.latestCheckpoint();
    if (head.seq === 0 || (latest && latest.seq >= head.seq)) return undefined;
    const key = await this.auditKey();
    const signer = await keys.getSigner(key.uri);
    const at = clock.now().getTime();
    const c: AuditCheckpoint = { seq: head.seq, headHash: head.hash, at, keyId: key.keyId, algorithm: signer.algorithm, signature: Buffer.from(await signer.sign(checkpointMessage({ seq: head.seq, headHash: head.hash, at }))) };
    await log.addCheckpoint(c);
    writeFileAtomic(
      join(this.deps.dataDir, AUDIT_CHECKPOINT_FILE),
      `${JSON.stringify({ seq: c.seq, headHash: c.headHash, at: c.at, keyId: c.keyId, algorithm: c.algorithm, signature: c.signature.toString('base64') }, null, 2)}\n`,
      0o644,
    );
    return c;
  }

  /** Checkpoints every `intervalMs` while the head moves (`jpki serve`). */
  start(intervalMs = 60_000, onError?: (e: unknown) => void): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.checkpoint().catch(onError), intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The audit public key (SPKI DER), made on first use. */
  async publicKey(): Promise<Buffer> {
    return (await this.auditKey()).spki;
  }

  /** The full verification (see the class comment). `publicKey` overrides the pinned key (an outside copy). */
  async verify(options: { publicKey?: KeyObject } = {}): Promise<AuditReport> {
    const { log } = this.deps;
    const problems: string[] = [];
    const chain = await log.verify();
    const head = await log.head();
    if (!chain.ok) problems.push(`the chain is broken at record ${chain.brokenAt}: ${chain.reason}`);

    // Checkpoints: each signed by the audit key over a record that still has that hash.
    const pinned = options.publicKey ?? this.pinnedKey();
    const pinnedId = pinned ? keyIdOf(pinned.export({ type: 'spki', format: 'der' })) : undefined;
    const checkpoints = await log.checkpoints();
    let verified = 0;
    let otherKeys = 0;
    for (const c of checkpoints) {
      if (c.seq > head.seq) {
        problems.push(`checkpoint ${c.seq} was signed for a chain of ${c.seq} records, but the chain ends at ${head.seq}: records were deleted`);
        continue;
      }
      const hash = await log.hashAt(c.seq);
      if (hash !== c.headHash) problems.push(`record ${c.seq} no longer has the hash checkpoint ${c.seq} signed: the chain was rewritten`);
      if (!pinned || c.keyId !== pinnedId) {
        otherKeys++;
        continue;
      }
      if (!verifyCheckpoint(c, pinned)) problems.push(`checkpoint ${c.seq}: the signature does not verify with the audit key`);
      else verified++;
    }
    if (checkpoints.length > 0 && !pinned) problems.push(`no audit public key to check the checkpoints with (${AUDIT_KEY_FILE} is missing; give --public-key)`);

    // The newest checkpoint this installation signed, kept outside the database.
    const mirror = this.mirroredCheckpoint();
    if (mirror) {
      const inDb = checkpoints.find((c) => c.seq === mirror.seq);
      if (!inDb || inDb.headHash !== mirror.headHash)
        problems.push(`checkpoint ${mirror.seq} (kept in ${AUDIT_CHECKPOINT_FILE}) is missing from the database or differs: newer records and checkpoints were removed`);
      else if (mirror.seq > head.seq) problems.push(`the chain ends at ${head.seq}, before checkpoint ${mirror.seq} kept in ${AUDIT_CHECKPOINT_FILE}`);
    }

    // Certificates against the audit records: nothing issued or revoked without its record, and no record of
    // an issuance or revocation the store does not show.
    const issued = new Set<string>();
    const revoked = new Set<string>();
    for await (const batch of log.records()) {
      for (const r of batch) {
        if (r.action === 'certificate.issue' || r.action === 'ocsp.responder.issue') issued.add(r.target);
        else if (r.action === 'certificate.revoke') revoked.add(r.target);
      }
    }
    const seen = new Set<string>();
    let certificatesChecked = 0;
    for await (const batch of this.deps.certificates.census()) {
      for (const c of batch) {
        certificatesChecked++;
        const target = `${c.caId}/${c.serial}`;
        seen.add(target);
        if (!issued.has(target)) problems.push(`certificate ${target} (${c.kind}) is in the store, but no audit record says it was issued`);
        if (c.revokedAt !== null && !revoked.has(target)) problems.push(`certificate ${target} is revoked in the store, but no audit record says it was revoked`);
        if (c.revokedAt === null && revoked.has(target)) problems.push(`the audit log says certificate ${target} was revoked, but the store shows it as good`);
      }
    }
    for (const t of issued) if (!seen.has(t)) problems.push(`the audit log says certificate ${t} was issued, but the store has no such certificate`);

    return {
      ok: problems.length === 0,
      records: chain.records,
      headSeq: head.seq,
      headHash: head.hash,
      checkpoints: { total: checkpoints.length, verified, latestSeq: checkpoints.at(-1)?.seq ?? null, otherKeys },
      certificatesChecked,
      problems: problems.slice(0, 50),
    };
  }

  private auditKey(): Promise<{ uri: string; spki: Buffer; keyId: string }> {
    this.key ??= this.loadOrCreateKey();
    this.key.catch(() => (this.key = undefined));
    return this.key;
  }

  private async loadOrCreateKey(): Promise<{ uri: string; spki: Buffer; keyId: string }> {
    const { keys, keyUri } = this.deps;
    let spki: Buffer;
    try {
      spki = Buffer.from(await keys.getPublicKey(keyUri));
    } catch (e) {
      if (!isKmsError(e, 'KMS_KEY_NOT_FOUND')) throw e;
      try {
        spki = Buffer.from((await keys.createKey(AUDIT_KEY_LABEL, AUDIT_KEY_SPEC)).publicKey);
      } catch (e2) {
        if (!isKmsError(e2, 'KMS_KEY_EXISTS')) throw e2;
        spki = Buffer.from(await keys.getPublicKey(keyUri));
      }
    }
    const pinned = this.pinnedKey();
    if (pinned && !pinned.export({ type: 'spki', format: 'der' }).equals(spki))
      throw new JpkiError('AUDIT_KEY_MISMATCH', 'conflict', `the audit key in the key store is not the one pinned in ${AUDIT_KEY_FILE}; refusing to sign checkpoints with it`);
    if (!pinned)
      writeFileAtomic(
        join(this.deps.dataDir, AUDIT_KEY_FILE),
        `${JSON.stringify({ uri: keyUri, publicKey: createPublicKey({ key: spki, format: 'der', type: 'spki' }).export({ type: 'spki', format: 'pem' }) }, null, 2)}\n`,
        0o644,
      );
    return { uri: keyUri, spki, keyId: keyIdOf(spki) };
  }

  private pinnedKey(): KeyObject | undefined {
    const path = join(this.deps.dataDir, AUDIT_KEY_FILE);
    if (!existsSync(path)) return undefined;
    try {
      const { publicKey } = JSON.parse(readFileSync(path, 'utf8')) as { publicKey: string };
      return createPublicKey(publicKey);
    } catch (e) {
      throw new JpkiError('AUDIT_KEY_FILE_INVALID', 'malformed', `${path} does not hold the audit public key: ${(e as Error).message}`);
    }
  }

  private mirroredCheckpoint(): { seq: number; headHash: string } | undefined {
    const path = join(this.deps.dataDir, AUDIT_CHECKPOINT_FILE);
    if (!existsSync(path)) return undefined;
    try {
      const m = JSON.parse(readFileSync(path, 'utf8')) as { seq: number; headHash: string };
      return typeof m.seq === 'number' && typeof m.headHash === 'string' ? m : undefined;
    } catch {
      return undefined;
    }
  }
}

export function keyIdOf(spki: Uint8Array): string {
  return createHash('sha256').update(spki).digest('hex');
}

export function verifyCheckpoint(c: AuditCheckpoint, publicKey: KeyObject): boolean {
  try {
    return verifySignature(digestOf(c.algorithm as SignatureAlgorithm), checkpointMessage(c), publicKey, c.signature);
  } catch {
    return false;
  }
}
