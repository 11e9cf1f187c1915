import { lexicographicSortSchema, printSchema } from 'graphql';
import { builder } from '../builder.js';
import { registerNodeTypes } from '../global-id.js';
// Each import registers its types, queries and mutations on the builder.
import './user.js';
import './project.js';
import './deployment.js';
import './workflow.js';
import './tenant.js';
import './auth.js';
import './audit-log.js';

export const schema = builder.toSchema();
registerNodeTypes(schema);

/** The SDL committed as schema.graphql; sorted so the file diffs cleanly. */
export function printSchemaSdl(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
