import { readFile } from 'node:fs/promises';
import { type DelegationResult } from '../../src/index.js';

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
