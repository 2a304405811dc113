import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgencyApplicationRepository } from '../../src/store/index.js';
import { createTestInstallation, type TestInstallation } from '../support/installation.js';

/** Least privilege (ARCHITECTURE.md): the agency holds its own table and a configured verifier, nothing else. */
describe('the agency holds only its own ports', () => {
  let t: TestInstallation;
  beforeAll(async () => {
    t = await createTestInstallation({ prefectures: ['13'] });
  });
  afterAll(async () => t?.cleanup());

  it('its table, the verification port and the clock', () => {
    const deps = (t.services.agency as unknown as { deps: Record<string, unknown> }).deps;
    expect(Object.keys(deps).sort()).toEqual(['applications', 'clock', 'verifier']);
    expect(deps.applications).toBeInstanceOf(AgencyApplicationRepository);
    expect(Object.keys(deps.verifier as object)).toEqual(['verify']);
    expect(t.services.agency.procedures().map((p) => p.title)).toEqual(['転出届', '住民票の写しの請求']);
  });
});
