/**
 * Reaching a card: the Reader interface and its implementations (in-process, PC/SC), the vpcd bridge that
 * serves a software card to pcscd, and the JPKI client that speaks the card's APDUs over any Reader.
 */
export { ReaderError, type Reader } from './reader.js';
export { InProcessReader, createCardFile, openCardFile, openInProcessReader, type CreateCardFileOptions, type OpenCardFileOptions } from './in-process-reader.js';
export { PcscReader, VPCD_READER_NAME, type PcscReaderOptions } from './pcsc-reader.js';
export { VpcdBridge, type VirtualCard, type VpcdBridgeOptions, type VpcdBridgeEvent } from './vpcd-bridge.js';
export { VPCD_DEFAULT_HOST, VPCD_DEFAULT_PORT, parseVpcdAddress } from './vpcd-protocol.js';
export { JpkiClient, derObjectLength, advertisesExtendedLength, historicalBytes, type PinStatus, type CardState } from './jpki-client.js';
export { digestInfo, digestInfoOf, type DigestAlgorithm } from './digest-info.js';
export {
  statusError,
  CardStatusError,
  PinIncorrectError,
  PinBlockedError,
  PinNotSetError,
  PinFormatError,
  SecurityStatusNotSatisfiedError,
  CardFileNotFoundError,
  KeyNotFoundError,
  IssuerAuthenticationFailedError,
  IssuerLockedError,
  CardMemoryError,
  type CommandTopic,
} from './card-status.js';
export { issuerMasterKey, cardFabricationSecret, ISSUER_MASTER_KEY_FILE, CARD_FABRICATION_SECRET_FILE, type KeyFileOptions } from './key-files.js';
export { deriveCardIssuerKey } from '../card/issuer-key.js';
