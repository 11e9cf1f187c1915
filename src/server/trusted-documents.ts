import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import { parse, type DocumentNode } from 'graphql';
import { ConfigError } from '../config.js';

/** The trusted documents by their sha256 (hex), parsed once at start. */
export type TrustedDocuments = ReadonlyMap<string, DocumentNode>;

/**
 * Reads a persisted-documents manifest: `{ "<sha256 hex>": "<document>" }`.
 * Every key must be its document's hash (a manifest cannot make a hash stand
 * for another document) and every document must parse; otherwise the start
 * fails naming each problem (ConfigError, exit code 2).
 */
export async function loadTrustedDocuments(file: string): Promise<TrustedDocuments> {
  let manifest: unknown;
  try {
    manifest = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (error) {
    throw new ConfigError([`TRUSTED_DOCUMENTS_FILE ${file}: ${(error as Error).message}`]);
  }
  if (manifest === null || typeof manifest !== 'object' || Array.isArray(manifest)) {
    throw new ConfigError([`TRUSTED_DOCUMENTS_FILE ${file}: expected an object of "<sha256>": "<document>"`]);
  }
  const documents = new Map<string, DocumentNode>();
  const problems: string[] = [];
  for (const [hash, text] of Object.entries(manifest)) {
    if (typeof text !== 'string') {
      problems.push(`TRUSTED_DOCUMENTS_FILE ${file}: the document of ${hash} is not a string`);
      continue;
    }
    const actual = createHash('sha256').update(text).digest('hex');
    if (actual !== hash) problems.push(`TRUSTED_DOCUMENTS_FILE ${file}: ${hash} is not the sha256 of its document (that is ${actual})`);
    try {
      documents.set(hash, parse(text));
    } catch (error) {
      problems.push(`TRUSTED_DOCUMENTS_FILE ${file}: the document of ${hash} does not parse: ${(error as Error).message}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return documents;
}
