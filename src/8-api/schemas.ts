// JSON schemas of the request bodies. Each endpoint's body is also, with the object's names and an
// `op`, one kind of batch change, so the two can never disagree. Unknown fields are errors (never
// silently dropped) and no type is coerced: "5" is not a weight.

import { MAX_TTL } from '../2-zone/ttl.ts';

type Schema = Record<string, unknown>;

const object = (properties: Record<string, Schema>, required: readonly string[] = []): Schema => ({
  type: 'object',
  additionalProperties: false,
  properties,
  required,
});

const text = (maxLength: number): Schema => ({ type: 'string', minLength: 1, maxLength });
/** Seconds; fractions allowed; at most a year. */
const validFor: Schema = { type: 'number', exclusiveMinimum: 0, maximum: 31_536_000 };
const reason: Schema = { type: 'string', maxLength: 500 };

export const bodies = {
  weight: object({ weight: { type: 'integer', minimum: 0, maximum: 100 } }, ['weight']),
  load: object(
    {
      load: { type: 'number', minimum: 0, maximum: 1e12 },
      capacity: { type: 'number', exclusiveMinimum: 0, maximum: 1e12 },
      valid_for: validFor,
    },
    ['load', 'capacity', 'valid_for'],
  ),
  health: object({ state: { enum: ['up', 'down'] }, reason, valid_for: validFor }, ['state', 'reason']),
  override: object({ state: { enum: ['up', 'down', 'drain'] }, reason, valid_for: validFor }, ['state']),
  target: object(
    {
      address: text(64),
      weight: { type: 'integer', minimum: 0, maximum: 100 },
      location: object(
        { lat: { type: 'number', minimum: -90, maximum: 90 }, lon: { type: 'number', minimum: -180, maximum: 180 } },
        ['lat', 'lon'],
      ),
      bias: { type: 'integer', minimum: -99, maximum: 99 },
      priority: { type: 'integer', minimum: 1, maximum: 1000 },
      regions: { type: 'array', maxItems: 300, items: { type: 'string', pattern: '^([A-Za-z]{2}|default)$' } },
      group: text(255),
    },
    ['address'],
  ),
  rrset: object(
    {
      ttl: { type: 'integer', minimum: 0, maximum: MAX_TTL },
      // A 64 KiB RRset holds at most a few thousand records.
      records: { type: 'array', minItems: 1, maxItems: 10_000, items: text(70_000) },
    },
    ['ttl', 'records'],
  ),
} as const;

const ref = {
  zone: text(1024),
  pool: text(1024),
  target: text(64),
  name: text(1024),
  type: text(16),
  if_match: text(200),
};

/** One batch change: `op`, the names that find its object, then the endpoint's body fields. */
function change(op: string, names: readonly (keyof typeof ref)[], body?: Schema): Schema {
  const props = (body?.properties ?? {}) as Record<string, Schema>;
  const properties: Record<string, Schema> = { op: { const: op }, if_match: ref.if_match };
  for (const n of names) properties[n] = ref[n];
  return object({ ...properties, ...props }, ['op', ...names, ...((body?.required ?? []) as string[])]);
}

const TARGET = ['zone', 'pool', 'target'] as const;
const RRSET = ['zone', 'name', 'type'] as const;

export const batchBody: Schema = object(
  {
    changes: {
      type: 'array',
      minItems: 1,
      maxItems: 10_000,
      items: {
        type: 'object',
        required: ['op'],
        discriminator: { propertyName: 'op' },
        oneOf: [
          change('set-weight', TARGET, bodies.weight),
          change('clear-weight', TARGET),
          change('set-load', TARGET, bodies.load),
          change('clear-load', TARGET),
          change('set-health', TARGET, bodies.health),
          change('clear-health', TARGET),
          change('set-override', TARGET, bodies.override),
          change('clear-override', TARGET),
          change('add-target', ['zone', 'pool'], bodies.target),
          change('remove-target', TARGET),
          change('put-rrset', RRSET, bodies.rrset),
          change('delete-rrset', RRSET),
        ],
      },
    },
  },
  ['changes'],
);
