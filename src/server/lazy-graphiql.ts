import type { YogaServerOptions } from 'graphql-yoga';

type Render = NonNullable<YogaServerOptions<object, object>['renderGraphiQL']>;

let loaded: Render | undefined;

/**
 * Imports GraphiQL's page. The package inlines the whole editor (about 70 MB
 * of resident memory once loaded), so a production server, which never
 * serves GraphiQL, never calls this; a development server calls it before it
 * listens, so the first page is answered at once.
 */
export async function loadGraphiQL(): Promise<void> {
  loaded ??= (await import('@graphql-yoga/render-graphiql')).renderGraphiQL;
}

/** Yoga's renderGraphiQL: synchronous once loaded, else it loads first. */
export const renderGraphiQL: Render = (options) => (loaded ? loaded(options) : loadGraphiQL().then(() => loaded!(options)));
