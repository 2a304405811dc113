/** Property-based attacks on the card's APDU interface (issue 10): see docs/reliability.md. */
import { CARD_TARGETS } from './support/card-targets.js';
import { describeTarget } from './support/property.js';

for (const target of CARD_TARGETS) describeTarget(target);
