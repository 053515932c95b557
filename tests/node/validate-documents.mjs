// Validates GraphQL documents against the committed schema with graphql-js, as a client's
// tooling (codegen, GraphiQL, eslint-plugin-graphql) would. A `# Variables: {…}` comment right
// above an operation (continued on following `#` lines) is checked too: it must be JSON that
// the operation's variable definitions accept. Prints one JSON line per file with its
// operations and any errors; exits non-zero if any document is invalid.
// Usage: node validate-documents.mjs <schema.graphql> <file.graphql>...
import { readFileSync } from 'node:fs';
import { buildSchema, parse, validate } from 'graphql';
import { getVariableValues } from 'graphql/execution/values.js';

// The `# Variables:` comment block that ends right above `offset`, if any.
function documentedVariables(text, offset) {
  const lines = text.slice(0, offset).split('\n');
  lines.pop(); // the operation's own line
  const block = [];
  while (lines.length && lines[lines.length - 1].startsWith('#')) {
    const line = lines.pop();
    block.unshift(line.replace(/^#\s?/, ''));
    if (line.startsWith('# Variables:')) {
      return block.join('\n').replace(/^Variables:/, '');
    }
  }
  return null;
}

const [sdlPath, ...files] = process.argv.slice(2);
const schema = buildSchema(readFileSync(sdlPath, 'utf8'));
let failed = 0;
for (const file of files) {
  let errors;
  let operations = [];
  try {
    const text = readFileSync(file, 'utf8');
    const doc = parse(text);
    const ops = doc.definitions.filter((d) => d.kind === 'OperationDefinition');
    operations = ops.map((d) => d.name?.value ?? null);
    errors = validate(schema, doc).map((e) => e.message);
    for (const op of ops) {
      const raw = documentedVariables(text, op.loc.start);
      if (raw === null) continue;
      let values;
      try {
        values = JSON.parse(raw);
      } catch (e) {
        errors.push(`${op.name?.value}: the Variables comment is not JSON: ${e.message}`);
        continue;
      }
      const coerced = getVariableValues(schema, op.variableDefinitions ?? [], values);
      for (const e of coerced.errors ?? []) errors.push(`${op.name?.value}: ${e.message}`);
    }
  } catch (e) {
    errors = [String(e.message ?? e)];
  }
  if (errors.length) failed += 1;
  console.log(JSON.stringify({ file, operations, errors }));
}
process.exit(failed ? 1 : 0);
