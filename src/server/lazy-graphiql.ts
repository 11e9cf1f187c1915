import type { YogaServerOptions } from 'graphql-yoga';

/**
 * GraphiQL's page, imported on first use: the package inlines the whole
 * editor (about 70 MB of resident memory once loaded), and a production
 * server, which never serves GraphiQL, should not carry it.
 */
export const renderGraphiQL: NonNullable<YogaServerOptions<object, object>['renderGraphiQL']> = async (options) =>
  (await import('@graphql-yoga/render-graphiql')).renderGraphiQL(options);
