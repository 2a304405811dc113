import { z } from 'zod';
import { isWellFormedPin, pinFormatRule, type PinName } from '../card/index.js';
import { CounterError } from './errors.js';

/**
 * What counter submissions carry, as zod schemas: the one definition both the HTTP API and the CLI go
 * through, so the same input gets the same answer everywhere. Problems become COUNTER_REQUEST_INVALID with
 * the field's path and a problem word the message catalogue translates.
 */

const YMD = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);

/** The application form as the resident fills it in (name, date of birth, address), checked against the register. */
export const ApplicationFormSchema = z.strictObject({
  name: z.string().min(1).max(100),
  dateOfBirth: YMD,
  address: z.string().min(1).max(200),
  /** A contact number, if the resident gives one. */
  phone: z
    .string()
    .regex(/^[0-9+()\- ]{6,20}$/)
    .optional(),
});
export type ApplicationForm = z.infer<typeof ApplicationFormSchema>;

/** The photo ID shown at the counter (guide §4(3): passport, driving licence, resident card…). */
export const PHOTO_ID_TYPES = ['passport', 'driving-licence', 'resident-card', 'residence-card', 'other-photo-id'] as const;
export const PhotoIdSchema = z.strictObject({
  type: z.enum(PHOTO_ID_TYPES),
  number: z.string().regex(/^[A-Za-z0-9-]{1,32}$/),
});
export type PhotoId = z.infer<typeof PhotoIdSchema>;

export const ResidentIdSchema = z.string().min(1).max(40);
export const PinNameSchema = z.enum(['sign', 'auth']);

/** Which key-pair generation device: a registered one (API, CLI) or a device URI (CLI only). */
export const DeviceRefSchema = z.union([z.strictObject({ id: z.string().min(1).max(40) }), z.strictObject({ uri: z.string().min(1).max(1000) })]);
export type DeviceRef = z.infer<typeof DeviceRefSchema>;

export const OpenIssuanceSchema = z.strictObject({ residentId: ResidentIdSchema, form: ApplicationFormSchema });
export type OpenIssuanceInput = z.infer<typeof OpenIssuanceSchema>;

export const FeeSchema = z.strictObject({ amount: z.number().int().min(0).max(1_000_000) });

export const DeviceStepSchema = z.strictObject({ device: DeviceRefSchema, signPin: z.string().max(16), authPin: z.string().max(4) });
export type DeviceStepInput = z.infer<typeof DeviceStepSchema>;

/** Reasons on the revocation application / private-key compromise report (guide §4(4)). */
export const COUNTER_REVOCATION_REASONS = ['lost', 'stolen', 'broken', 'misuse', 'unneeded'] as const;
export type CounterRevocationReason = (typeof COUNTER_REVOCATION_REASONS)[number];

export const RevocationSchema = z.strictObject({
  residentId: ResidentIdSchema,
  form: ApplicationFormSchema,
  identity: PhotoIdSchema,
  reason: z.enum(COUNTER_REVOCATION_REASONS),
  /** The card was handed over at the counter. */
  cardTakenBack: z.boolean().default(false),
  /** Which certificates (default both). */
  certificates: z.array(PinNameSchema).min(1).max(2).optional(),
});
export type RevocationInput = z.input<typeof RevocationSchema>;

const pinService = {
  residentId: ResidentIdSchema,
  form: ApplicationFormSchema,
  identity: PhotoIdSchema,
  pin: PinNameSchema,
  device: DeviceRefSchema,
  newPin: z.string().max(16),
};
export const PinChangeSchema = z.strictObject({ ...pinService, currentPin: z.string().max(16) });
export const PinResetSchema = z.strictObject(pinService);
export type PinChangeInput = z.infer<typeof PinChangeSchema>;
export type PinResetInput = z.infer<typeof PinResetSchema>;

/** Parses `value`; the first problem becomes COUNTER_REQUEST_INVALID naming the field. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined) path.push(issue.keys[0]);
  const field = path.join('.') || 'request';
  const problem = problemOf(issue);
  throw new CounterError('COUNTER_REQUEST_INVALID', `${field}: ${issue.message}`, { field, problem });
}

function problemOf(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return /received undefined/.test(issue.message) ? 'required' : 'type';
    case 'too_big':
      return 'too-long';
    case 'too_small':
      return 'too-short';
    case 'invalid_format':
      return 'format';
    case 'invalid_value':
    case 'invalid_union':
      return 'value';
    case 'unrecognized_keys':
      return 'unexpected';
    default:
      return 'value';
  }
}

/**
 * A PIN chosen at the counter: the profile's format (signing password upper-cased first, as clients do),
 * and not guessable from the date of birth or one digit repeated (guide §4(6)). Returns the value to use.
 */
export function checkNewPin(pin: PinName, value: string, field: string, dateOfBirth: string): string {
  const v = pin === 'sign' ? value.toUpperCase() : value;
  if (!isWellFormedPin(pin, v)) throw new CounterError('COUNTER_REQUEST_INVALID', `${field}: must be ${pinFormatRule(pin)}`, { field, problem: 'pin-format' });
  const [y, m, d] = dateOfBirth.split('-') as [string, string, string];
  const guessable =
    pin === 'auth' ? [`${m}${d}`, `${d}${m}`, y, `${y.slice(2)}${m}`].includes(v) : v.includes(`${y}${m}${d}`) || v.includes(`${y.slice(2)}${m}${d}`);
  if (guessable || /^(.)\1+$/.test(v))
    throw new CounterError('COUNTER_PIN_GUESSABLE', `${field}: the ${pin === 'sign' ? 'signing password' : 'user-authentication PIN'} must not be guessable`, { pin, field });
  return v;
}
