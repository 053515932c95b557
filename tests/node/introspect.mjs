// Runs graphql-js's standard introspection query, with every option GraphiQL, Apollo Sandbox
// and codegen tools turn on, against a live memberkey, and builds a client schema from the
// answer as those tools do. Prints a JSON summary; exits non-zero on any failure.
// Usage: node introspect.mjs <graphql-url> <schema.graphql>
import { readFileSync } from 'node:fs';
import {
  buildClientSchema,
  buildSchema,
  getIntrospectionQuery,
  lexicographicSortSchema,
  printSchema,
} from 'graphql';

const [url, sdlPath] = process.argv.slice(2);
const query = getIntrospectionQuery({
  descriptions: true,
  specifiedByUrl: true,
  directiveIsRepeatable: true,
  schemaDescription: true,
  inputValueDeprecation: true,
  oneOf: true,
});
const resp = await fetch(url, {
  method: 'POST',
  headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
  body: JSON.stringify({ query, operationName: 'IntrospectionQuery' }),
});
const body = await resp.json();
if (resp.status !== 200 || body.errors) {
  console.log(JSON.stringify({ ok: false, status: resp.status, errors: body.errors ?? null }));
  process.exit(1);
}
const client = buildClientSchema(body.data);
// async-graphql answers `__schema.description` with a fixed sentence of its own, which no SDL
// holds; the comparison leaves it out.
client.description = undefined;
// The served schema must be the committed one, as graphql-js reads both.
const committed = buildSchema(readFileSync(sdlPath, 'utf8'));
const same =
  printSchema(lexicographicSortSchema(client)) === printSchema(lexicographicSortSchema(committed));
const summary = {
  ok: same,
  sameAsCommittedSdl: same,
  types: Object.keys(client.getTypeMap()).length,
  hasProfile: Boolean(client.getType('Profile')),
  queryFields: Object.keys(client.getQueryType().getFields()).length,
};
console.log(JSON.stringify(summary));
process.exit(same ? 0 : 1);
