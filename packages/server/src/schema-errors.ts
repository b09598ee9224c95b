interface SchemaErrorLike {
  keyword?: string;
  schemaPath?: string;
  instancePath: string;
  message?: string;
  params?: Record<string, unknown>;
}

/**
 * Turns the first schema error (Ajv's or TypeBox's, which share a shape) into one line that names the field,
 * such as `body.user_id must be string`; `root` is left out when empty.
 */
export function describeSchemaError(root: string, errors: Iterable<SchemaErrorLike>): string {
  const all = [...errors];
  for (const error of all) {
    const path = [root, ...error.instancePath.split('/')].filter(Boolean);
    const params = error.params ?? {};
    const missing = Array.isArray(params['requiredProperties'])
      ? String(params['requiredProperties'][0])
      : (params['missingProperty'] as string | undefined);
    if (missing !== undefined) return `${[...path, missing].join('.')} is required`;
    const extra = Array.isArray(params['additionalProperties'])
      ? String(params['additionalProperties'][0])
      : (params['additionalProperty'] as string | undefined);
    if (extra !== undefined) return `${[...path, extra].join('.')} is not allowed`;
    // TypeBox reports an extra property first at its own path, as failing the `additionalProperties: false` schema.
    if (error.keyword === 'boolean' && error.schemaPath?.endsWith('/additionalProperties')) return `${path.join('.')} is not allowed`;
    const name = path.join('.') || root || 'value';
    // A union of literals (Type.Union([Type.Literal(...), ...])) fails one `const` per literal: one list of them.
    if (error.keyword === 'const') return `${name} must be equal to one of the allowed values (${constsAt(all, error.instancePath).join(', ')})`;
    const allowed = Array.isArray(params['allowedValues']) ? ` (${params['allowedValues'].join(', ')})` : '';
    return `${name} ${error.message ?? 'is invalid'}${allowed}`;
  }
  return `${root || 'value'} is invalid`;
}

/** The values of every `const` that failed at `instancePath`: the literals of a union, in its order. */
function constsAt(errors: readonly SchemaErrorLike[], instancePath: string): string[] {
  return errors
    .filter((error) => error.keyword === 'const' && error.instancePath === instancePath)
    .map((error) => String(error.params?.['allowedValue']));
}
