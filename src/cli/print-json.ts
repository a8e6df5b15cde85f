type Out = Pick<NodeJS.WriteStream, 'write'>;

/** The one JSON document a `--json` command prints on stdout (field names are documented in docs/operations.md). */
export function printJson(value: unknown, out: Out = process.stdout): void {
  out.write(`${JSON.stringify(value, null, 2)}\n`);
}
