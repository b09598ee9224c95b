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
  for (const error of errors) {
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
    const allowed = Array.isArray(params['allowedValues']) ? ` (${params['allowedValues'].join(', ')})` : '';
    return `${path.join('.') || root || 'value'} ${error.message ?? 'is invalid'}${allowed}`;
  }
  return `${root || 'value'} is invalid`;
}
