import type { ValueTransformer } from 'typeorm'

/** A value object a lock field holds, stored as its string by a column transformer (`skuColumn`). */
export class Sku {
  constructor(readonly value: string) {}
}

/** The column options of a unique `varchar` lock field holding a `Sku`. */
export const skuColumn = {
  unique: true,
  transformer: { to: (sku?: Sku | null) => sku?.value, from: (value: string) => new Sku(value) } satisfies ValueTransformer,
}
