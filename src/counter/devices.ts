import { isAbsolute, resolve } from 'node:path';
import { JpkiError } from '../common/errors.js';
import { openInProcessReader, PcscReader, type Reader } from '../reader/index.js';
import { CounterError } from './errors.js';

/**
 * The key-pair generation device (鍵ペア生成装置) at a counter: a card reader with the resident's card in it.
 * The counter only needs a Reader to the card, so a device is "how to connect to the card now":
 *
 * - `file:<path>` — a software card image (`jpki card new`) in an in-process reader: the CLI, tests,
 *   and a counter whose card images live on the server;
 * - `pcsc:<reader name>` — a card in a PC/SC reader through pcscd (a real reader, or the vpcd reader that
 *   `jpki card serve` feeds), opened exclusively for the whole session.
 */
export interface KeyPairGenerationDevice {
  readonly uri: string;
  /** Connects to the card in the device. Throws COUNTER_DEVICE_NO_CARD when the device holds none. */
  connect(): Promise<Reader>;
}

/** Makes the device for a URI (injected, so tests can put a failing reader in between). */
export type DeviceFactory = (uri: string) => KeyPairGenerationDevice;

export interface DeviceFactoryOptions {
  /** The data directory holding the card fabrication secret (software card images). */
  dataDir: string;
  /** How long to wait for a PC/SC reader and its card (default 5 s). */
  pcscTimeoutMs?: number;
}

export type ParsedDeviceUri = { type: 'file'; path: string } | { type: 'pcsc'; readerName: string };

export function parseDeviceUri(uri: string, options: { relativeTo?: string } = {}): ParsedDeviceUri {
  const m = /^(file|pcsc):(.+)$/s.exec(uri ?? '');
  if (!m || !m[2]!.trim() || /[\u0000-\u001f]/.test(m[2]!))
    throw new CounterError('COUNTER_DEVICE_URI_INVALID', `${JSON.stringify(uri)} is not a device: use file:<card image> or pcsc:<reader name>`, { uri: String(uri) });
  if (m[1] === 'pcsc') return { type: 'pcsc', readerName: m[2]! };
  const path = m[2]!.replace(/^\/\/(?=\/)/, '');
  if (!isAbsolute(path) && options.relativeTo === undefined)
    throw new CounterError('COUNTER_DEVICE_URI_INVALID', `a registered device needs an absolute path, not ${JSON.stringify(path)}`, { uri });
  return { type: 'file', path: isAbsolute(path) ? path : resolve(options.relativeTo!, path) };
}

export function deviceFactory(options: DeviceFactoryOptions): DeviceFactory {
  return (uri) => {
    const parsed = parseDeviceUri(uri);
    if (parsed.type === 'file') {
      return {
        uri,
        async connect() {
          try {
            return await openInProcessReader(parsed.path, { dataDir: options.dataDir, lock: true });
          } catch (e) {
            if (e instanceof JpkiError && e.code === 'card.image-missing') throw noCard(uri, e);
            throw e;
          }
        },
      };
    }
    return {
      uri,
      async connect() {
        try {
          return await PcscReader.connect({ readerName: parsed.readerName, timeoutMs: options.pcscTimeoutMs ?? 5000 });
        } catch (e) {
          if (e instanceof JpkiError && e.code === 'reader.no-card') throw noCard(uri, e);
          throw e;
        }
      },
    };
  };
}

function noCard(uri: string, cause: unknown): CounterError {
  return new CounterError('COUNTER_DEVICE_NO_CARD', `there is no card in the device ${uri}`, { device: uri }, { cause });
}
