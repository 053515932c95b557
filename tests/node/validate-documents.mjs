// Validates GraphQL documents against the committed schema with graphql-js, as a client's
// tooling (codegen, GraphiQL, eslint-plugin-graphql) would. Prints one JSON line per file with
// its operations and any errors; exits non-zero if any document is invalid.
// Usage: node validate-documents.mjs <schema.graphql> <file.graphql>...
import { readFileSync } from 'node:fs';
import { buildSchema, parse, validate } from 'graphql';

const [sdlPath, ...files] = process.argv.slice(2);
const schema = buildSchema(readFileSync(sdlPath, 'utf8'));
let failed = 0;
for (const file of files) {
  let errors;
  let operations = [];
  try {
    const doc = parse(readFileSync(file, 'utf8'));
    operations = doc.definitions
      .filter((d) => d.kind === 'OperationDefinition')
      .map((d) => d.name?.value ?? null);
    errors = validate(schema, doc).map((e) => e.message);
  } catch (e) {
    errors = [String(e.message ?? e)];
  }
  if (errors.length) failed += 1;
  console.log(JSON.stringify({ file, operations, errors }));
}
process.exit(failed ? 1 : 0);
