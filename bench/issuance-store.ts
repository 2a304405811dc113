/**
 * The issuance benchmark (bench/issuance.ts) on the one store BENCH_STORES names, in a process of its own:
 * bench/issuance.ts starts one of these per store.
 */
import 'reflect-metadata';
import { bench } from './issuance.js';

await bench();
