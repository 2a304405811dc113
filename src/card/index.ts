/**
 * The resident's IC card (software): the JPKI application behind an ATR, with its persisted card image.
 * Pure apart from the image, which goes through `CardStorage`. Readers live in src/reader/.
 */
export { SoftCard, newCardId, type FabricateParams } from './soft-card.js';
export { JpkiApplet, type AppletOptions } from './applet.js';
export type { CardHooks, TearingPoint } from './commands/context.js';
export type { CardDescription } from './card-memory.js';
export { FileCardStorage, MemoryCardStorage, type CardStorage, type FileCardStorageOptions } from './storage.js';
export { readCardImageId, IMAGE_FORMAT, IMAGE_VERSION } from './card-image.js';
export { FABRICATION_SECRET_LENGTH } from './card-secrets.js';
export {
  deriveCardIssuerKey,
  issuerCryptogram,
  issuerSecretOf,
  cardKeyInput,
  cardIssuerOf,
  cardIssuerFromMasterKey,
  ISSUER_MASTER_KEY_LENGTH,
  type CardIssuer,
} from './issuer-key.js';
export { encodeCommandApdu, parseCommandApdu, encodeResponseApdu, parseResponseApdu, toHex, type CommandApdu, type CommandFields, type ResponseApdu } from './apdu.js';
export { SW, CardError, describeStatusWord, triesLeftSw } from './status-words.js';
export { isWellFormedPin, pinFormatRule } from './pin-format.js';
export * from './jpki-constants.js';
