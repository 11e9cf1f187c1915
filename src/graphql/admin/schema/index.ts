import { lexicographicSortSchema, printSchema } from 'graphql';
import { adminBuilder } from '../builder.js';
// Each import registers its types, queries and mutations on the admin builder.
import './tenant.js';
import './tenant-domain.js';
import './tenant-settings.js';
import './tenant-usage.js';
import './fleet.js';
import './plan.js';
import './usage-history.js';

export const adminSchema = adminBuilder.toSchema();

export function printAdminSchemaSdl(): string {
  return `${printSchema(lexicographicSortSchema(adminSchema))}\n`;
}
