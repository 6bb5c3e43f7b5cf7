/**
 * A validator for the structural-schema subset CRDs use (type, properties, required,
 * additionalProperties, items, enum, minItems, x-kubernetes-int-or-string,
 * x-kubernetes-preserve-unknown-fields). Stricter than the API server, which prunes unknown
 * fields silently: here an unknown field is an error, so a misspelt Plan field fails a test
 * instead of vanishing on `kubectl apply`.
 */
export interface Schema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: Schema | boolean;
  items?: Schema;
  enum?: unknown[];
  minItems?: number;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

/** Every violation of `schema` by `value`, as `path: problem` (empty = valid). */
export function validate(schema: Schema, value: unknown, path = ''): string[] {
  const at = path || '(root)';
  if (schema['x-kubernetes-int-or-string']) {
    return (typeof value === 'number' && Number.isInteger(value)) || typeof value === 'string'
      ? []
      : [`${at}: must be an integer or a string`];
  }
  if (schema.enum && !schema.enum.includes(value)) return [`${at}: must be one of ${schema.enum.join(', ')}`];
  switch (schema.type) {
    case 'string':
      return typeof value === 'string' ? [] : [`${at}: must be a string`];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${at}: must be a boolean`];
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value) ? [] : [`${at}: must be an integer`];
    case 'number':
      return typeof value === 'number' ? [] : [`${at}: must be a number`];
    case 'array': {
      if (!Array.isArray(value)) return [`${at}: must be an array`];
      const errs: string[] = [];
      if (schema.minItems !== undefined && value.length < schema.minItems) errs.push(`${at}: needs at least ${schema.minItems} item(s)`);
      if (schema.items) value.forEach((v, i) => errs.push(...validate(schema.items!, v, `${path}[${i}]`)));
      return errs;
    }
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${at}: must be an object`];
      if (schema['x-kubernetes-preserve-unknown-fields']) return [];
      const errs: string[] = [];
      const obj = value as Record<string, unknown>;
      for (const r of schema.required ?? []) if (!(r in obj)) errs.push(`${path ? path + '.' : ''}${r}: required`);
      for (const [k, v] of Object.entries(obj)) {
        const p = path ? `${path}.${k}` : k;
        const prop = schema.properties?.[k];
        if (prop) errs.push(...validate(prop, v, p));
        else if (typeof schema.additionalProperties === 'object') errs.push(...validate(schema.additionalProperties, v, p));
        else if (schema.additionalProperties !== true) errs.push(`${p}: unknown field`);
      }
      return errs;
    }
    default:
      return [];
  }
}
