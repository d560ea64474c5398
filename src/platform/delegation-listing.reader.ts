import { Injectable, Logger } from '@nestjs/common';
import { PlatformResponseError } from './platform.errors.js';
import { describePlatformPath } from './platform-paths.js';
import { PlatformClient } from './platform.client.js';
import { type BoundedJsonLimits } from './bounded-json-array.js';
import {
  type BoundedJsonOutcome,
  BoundedJsonParser,
  type BoundedJsonPath,
} from './bounded-json.parser.js';

/**
 * How much of a delegation listing is kept. The platform lists at most 50 rows whose fields are
 * short, except `error`, which the other agent writes and the platform stores unbounded: one 5 MiB
 * error would otherwise make every listing too large to read until the row ages out (7 days).
 */
export const LISTING_LIMITS: BoundedJsonLimits = {
  // Room for a long stack trace or reply, which the agent reads in the results file.
  maxStringChars: 768 * 1024,
  maxElementChars: 1024 * 1024,
  maxElements: 100_000,
  maxTotalChars: 32 * 1024 * 1024,
};

/** Most bytes of a listing read from the wire (the parser keeps far less of them). */
export const MAX_LISTING_BYTES = 256 * 1024 * 1024;

/** What the listing reader left out since the application started. */
export interface ListingCutStats {
  /** Fields cut to 768 Ki characters. */
  fieldsCut: number;
  /** Rows left out (over 1 MiB kept characters, past 100 000 rows or 32 Mi characters in all). */
  rowsSkipped: number;
}

/**
 * Reads the delegation listing with memory bounded whatever the platform answers: oversized
 * fields are cut (and marked), oversized rows are skipped, the rest of the listing is kept. A
 * listing too short for any of that to apply (every listing the platform sends about normal
 * delegations) is parsed whole, a longer one as a token stream. What was cut is counted and
 * logged when it changes, not on every check.
 */
@Injectable()
export class DelegationListingReader {
  private readonly logger = new Logger(DelegationListingReader.name);
  private readonly totals: ListingCutStats = { fieldsCut: 0, rowsSkipped: 0 };
  private readonly byPath: Record<BoundedJsonPath, number> = { whole: 0, streamed: 0 };
  private lastCutReport = '';

  constructor(private readonly platform: PlatformClient) {}

  /** Counters since the application started. */
  get stats(): Readonly<ListingCutStats> {
    return { ...this.totals };
  }

  /** Listings read so far, by how they were parsed. */
  get reads(): Readonly<Record<BoundedJsonPath, number>> {
    return { ...this.byPath };
  }

  /**
   * GETs `path` and returns the parsed answer (normally an array), bounded as described.
   * @throws what {@link PlatformClient} throws, or {@link PlatformResponseError} for invalid JSON.
   */
  async read(path: string): Promise<unknown> {
    const parser = new BoundedJsonParser(LISTING_LIMITS);
    const malformed = () =>
      new PlatformResponseError(`GET ${describePlatformPath(path)} answered malformed JSON`);
    const write = (chunk: Buffer) => {
      try {
        parser.write(chunk);
      } catch {
        throw malformed();
      }
    };
    await this.platform.getStreamed('delegations', path, write, MAX_LISTING_BYTES);
    let parsed: BoundedJsonOutcome;
    try {
      parsed = parser.end();
    } catch {
      throw malformed();
    }
    this.byPath[parsed.path]++;
    const { cutStrings, skippedElements } = parsed.cuts;
    this.totals.fieldsCut += cutStrings;
    this.totals.rowsSkipped += skippedElements;
    const report = `${cutStrings}/${skippedElements}`;
    if (report !== this.lastCutReport && (cutStrings > 0 || skippedElements > 0)) {
      this.logger.warn(
        `Delegation listing kept within bounds: ${cutStrings} field(s) cut to ${LISTING_LIMITS.maxStringChars} characters, ${skippedElements} row(s) skipped`,
      );
    }
    this.lastCutReport = report;
    return parsed.value;
  }
}
