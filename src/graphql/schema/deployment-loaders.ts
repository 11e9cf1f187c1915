import { createContextCache } from '@pothos/core';
import DataLoader from 'dataloader';
import {
  countDeploymentsOfProjects,
  pageDeploymentsOfProjects,
  type DeploymentFilter,
  type DeploymentPageRow,
} from '../../data/deployments/deployment.repository.js';
import type { KeysetPage } from '../../data/keyset-page.js';
import type { GraphQLContext } from '../context.js';

export interface ProjectDeploymentLoaders {
  page(page: KeysetPage, withCount: boolean): DataLoader<string, DeploymentPageRow[]>;
  readonly count: DataLoader<string, number>;
}

/**
 * DataLoaders per distinct filter (and page) in a request: every project in a
 * page that asks for the same `deployments(…)` joins one batched statement
 * for its rows, and one for its total when a page alone cannot tell it.
 */
const loaderCache = createContextCache((context: GraphQLContext) => {
  const byFilter = new Map<string, ProjectDeploymentLoaders>();
  return (shared: Omit<DeploymentFilter, 'projectId'>): ProjectDeploymentLoaders => {
    const filterKey = JSON.stringify(shared);
    let loaders = byFilter.get(filterKey);
    if (!loaders) {
      const pages = new Map<string, DataLoader<string, DeploymentPageRow[]>>();
      loaders = {
        page(page, withCount) {
          const pageKey = JSON.stringify([page, withCount]);
          let loader = pages.get(pageKey);
          if (!loader) {
            loader = new DataLoader(async (ids: readonly string[]) => {
              const byProject = await pageDeploymentsOfProjects(context.db, ids, shared, page, withCount);
              return ids.map((id) => byProject.get(id) ?? []);
            });
            pages.set(pageKey, loader);
          }
          return loader;
        },
        count: new DataLoader(async (ids: readonly string[]) => {
          const counts = await countDeploymentsOfProjects(context.db, ids, shared);
          return ids.map((id) => counts.get(id) ?? 0);
        }),
      };
      byFilter.set(filterKey, loaders);
    }
    return loaders;
  };
});

/** The request's loaders for one project's deployments under this filter, shared with every other project asking the same. */
export function projectDeploymentLoaders(context: GraphQLContext, { projectId: _, ...shared }: DeploymentFilter): ProjectDeploymentLoaders {
  return loaderCache(context)(shared);
}
