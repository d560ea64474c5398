import { readFile } from 'node:fs/promises';
import { type DelegationResult } from '../../src/index.js';

/** The fields of a results-file record, in the order the README documents them. */
export const RESULT_FIELDS = [
  'delegation_id',
  'target_id',
  'source_id',
  'status',
  'summary',
  'response_preview',
  'error',
  'timestamp',
];

/** The JSONL results file as records; an absent file is empty. */
export async function readResults(path: string): Promise<DelegationResult[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as DelegationResult);
}
