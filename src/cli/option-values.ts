import { InvalidArgumentError } from 'commander';

/**
 * A commander parser for a whole number from 1 to max (`--limit 1e309` was Infinity and reached the database
 * as a datatype mismatch, found by fuzzing): anything else is a usage error naming the range.
 */
export function wholeNumber(max: number): (value: string) => number {
  return (value: string) => {
    const n = /^\d{1,9}$/.test(value.trim()) ? Number(value.trim()) : NaN;
    if (!Number.isSafeInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`a whole number from 1 to ${max}`);
    return n;
  };
}
