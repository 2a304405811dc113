import { closeSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { JpkiError } from '../common/errors.js';
import { readFileBounded } from '../common/bounded-read.js';

/** A card image is a few KiB of JSON; anything far larger is not one (and is not read whole). */
const MAX_IMAGE_BYTES = 1 << 20;

/**
 * Where a card image lives: the card's only I/O. `write` must be atomic and durable before it resolves,
 * because the applet relies on it for anti-tearing (a decremented retry counter is on disk before the PIN is
 * compared).
 */
export interface CardStorage {
  /** The stored image, or null if none was written yet. */
  read(): Promise<Buffer | null>;
  write(image: Uint8Array): Promise<void>;
  /** For messages: a path or "memory". */
  readonly location: string;
  /** Gives up any lock held on the image. */
  close(): Promise<void>;
}

/** For unit tests: the image in a buffer. `failWrites` simulates a worn-out EEPROM. */
export class MemoryCardStorage implements CardStorage {
  readonly location = 'memory';
  image: Buffer | null = null;
  writes = 0;
  failWrites = false;

  async read(): Promise<Buffer | null> {
    return this.image && Buffer.from(this.image);
  }

  async write(image: Uint8Array): Promise<void> {
    if (this.failWrites) throw new Error('simulated write failure');
    this.image = Buffer.from(image);
    this.writes++;
  }

  async close(): Promise<void> {}
}

export interface FileCardStorageOptions {
  /**
   * Take `<path>.lock` (holding our pid) so a second process cannot serve or personalise the same card at the
   * same time: two writers would each keep their own retry counters. A lock left by a dead process is taken
   * over. Read-only uses (status) pass false.
   */
  lock: boolean;
}

/**
 * A card image in a file. Writes go to a temporary file in the same directory, are fsynced, renamed over the
 * image and the directory is fsynced: a crash leaves either the old or the new image, never a torn one.
 * Synchronous calls on purpose: a card does one thing at a time, and they are about twice as fast here.
 */
export class FileCardStorage implements CardStorage {
  private locked = false;

  private constructor(readonly location: string) {}

  static async open(path: string, options: FileCardStorageOptions): Promise<FileCardStorage> {
    const storage = new FileCardStorage(path);
    if (options.lock) {
      storage.acquireLock();
      storage.removeLeftoverTemps();
    }
    return storage;
  }

  async read(): Promise<Buffer | null> {
    try {
      return readFileBounded(this.location, MAX_IMAGE_BYTES, 'card image');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      if (e instanceof JpkiError) throw new JpkiError('card.image-read', 'unavailable', `cannot read the card image ${this.location}: ${e.message}`, {}, { cause: e });
      throw new JpkiError('card.image-read', 'unavailable', `cannot read the card image ${this.location}: ${(e as Error).message}`, {}, { cause: e });
    }
  }

  async write(image: Uint8Array): Promise<void> {
    const dir = dirname(this.location);
    const temp = join(dir, `${this.tempPrefix}${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      const fd = openSync(temp, 'wx', 0o600);
      try {
        writeSync(fd, image);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(temp, this.location);
      const dfd = openSync(dir, 'r');
      try {
        fsyncSync(dfd);
      } finally {
        closeSync(dfd);
      }
    } catch (e) {
      try {
        unlinkSync(temp);
      } catch {
        // already renamed or never created
      }
      throw new JpkiError('card.image-write', 'unavailable', `cannot write the card image ${this.location}: ${(e as Error).message}`, {}, { cause: e });
    }
  }

  async close(): Promise<void> {
    if (!this.locked) return;
    this.locked = false;
    try {
      unlinkSync(this.lockPath);
    } catch {
      // gone already
    }
  }

  /** Temporary images are `.<name>.<pid>.<random>.tmp` beside the image. */
  private get tempPrefix(): string {
    return `.${basename(this.location)}.`;
  }

  /**
   * Temporary images a killed process left behind (it died between writing and renaming). Only the lock
   * holder writes, and the lock is ours now, so every one of them is stale.
   */
  private removeLeftoverTemps(): void {
    const dir = dirname(this.location);
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names)
      if (name.startsWith(this.tempPrefix) && name.endsWith('.tmp') && /^\d+\.[0-9a-f]+\.tmp$/.test(name.slice(this.tempPrefix.length)))
        try {
          unlinkSync(join(dir, name));
        } catch {
          // gone already
        }
  }

  private get lockPath(): string {
    return `${this.location}.lock`;
  }

  private acquireLock(): void {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = openSync(this.lockPath, 'wx', 0o600);
        writeSync(fd, `${process.pid}\n`);
        closeSync(fd);
        this.locked = true;
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new JpkiError('card.image-lock', 'unavailable', `cannot lock the card image ${this.location}: ${(e as Error).message}`, {}, { cause: e });
        }
      }
      const holder = this.lockHolder();
      if (holder !== null && processAlive(holder)) {
        throw new JpkiError('card.image-in-use', 'conflict', `the card image ${this.location} is in use by process ${holder}${holder === process.pid ? ' (this one)' : ''}: a card is in one reader at a time`, { pid: holder });
      }
      // Stale lock (its process died, e.g. killed mid-command): take it over.
      try {
        unlinkSync(this.lockPath);
      } catch {
        // someone else removed it first; try again
      }
    }
    throw new JpkiError('card.image-in-use', 'conflict', `could not lock the card image ${this.location}`);
  }

  private lockHolder(): number | null {
    try {
      const pid = Number.parseInt(readFileSync(this.lockPath, 'utf8').trim(), 10);
      return Number.isInteger(pid) && pid > 0 ? pid : null;
    } catch {
      return null;
    }
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
