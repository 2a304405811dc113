/** Property-based attacks on every HTTP route the app registers, on both stores (issue 10): see docs/reliability.md. */
import { availableStoreKinds } from '../support/stores.js';
import { httpRoutes, httpRoutesPostgres } from './support/http-targets.js';
import { describeTarget } from './support/property.js';

describeTarget(httpRoutes);
if ((await availableStoreKinds()).includes('postgres')) describeTarget(httpRoutesPostgres);
