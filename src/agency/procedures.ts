import { z } from 'zod';
import { addressProblem, dateOfBirthProblem, nameProblem } from '../pki/resident-facts.js';
import { parseIsoDate } from '../pki/era.js';

/**
 * The procedures the sample agency takes online (docs/agency.md): each is a form of named fields, checked
 * with zod, in a fixed order (the order of the signed document). The texts people read are the page's
 * (web/agency/messages.ts); here only ids and rules. Names, addresses and dates of birth are checked by the
 * one validator of resident facts the register and the CA use (pki/resident-facts.ts).
 */
const text = (max: number) => z.string().trim().min(1, 'required').max(max);
const name = z.string().superRefine((v, ctx) => {
  const p = nameProblem(v);
  if (p) ctx.addIssue({ code: 'custom', message: p.message });
});
const address = z.string().superRefine((v, ctx) => {
  const p = addressProblem(v);
  if (p) ctx.addIssue({ code: 'custom', message: p.message });
});
const dateOfBirth = z.string().superRefine((v, ctx) => {
  const p = dateOfBirthProblem(v);
  if (p) ctx.addIssue({ code: 'custom', message: p.message });
});
const date = z.string().refine((v) => parseIsoDate(v) !== undefined, 'not a real date (YYYY-MM-DD)');

export interface Procedure {
  id: string;
  /** The official Japanese title (what the signed document says). */
  title: string;
  /** The form's fields in document order. */
  fields: readonly string[];
  schema: z.ZodType<Record<string, string | number | boolean>>;
}

/** 転出届: leaving the municipality, filed in advance. */
const movingOut: Procedure = {
  id: 'moving-out',
  title: '転出届',
  fields: ['name', 'dateOfBirth', 'address', 'newAddress', 'movingDate'],
  schema: z
    .object({ name, dateOfBirth, address, newAddress: address, movingDate: date })
    .strict()
    .refine((f) => f.newAddress.trim() !== f.address.trim(), { message: 'the new address is the current one', path: ['newAddress'] }),
};

/** 住民票の写しの請求: a copy of one's certificate of residence, sent by post to the registered address. */
const residenceCertificate: Procedure = {
  id: 'residence-certificate',
  title: '住民票の写しの請求',
  fields: ['name', 'dateOfBirth', 'address', 'scope', 'copies', 'includeDomicile', 'purpose'],
  schema: z
    .object({
      name,
      dateOfBirth,
      address,
      scope: z.enum(['self', 'household']),
      copies: z.number().int().min(1).max(10),
      includeDomicile: z.boolean(),
      purpose: text(100),
    })
    .strict(),
};

/** The procedures in the order the site lists them. */
export const PROCEDURES: readonly Procedure[] = [movingOut, residenceCertificate];

export function procedureById(id: string): Procedure | undefined {
  return PROCEDURES.find((p) => p.id === id);
}
