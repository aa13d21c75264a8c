import { LockModel } from '@cachelock/typeorm'
import { Column, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm'

// Compile-time checks of @LockModel, run by `tsc` (`pnpm typecheck`), never by vitest. A
// `@ts-expect-error` whose line compiles fails the typecheck; `on \`x\`` in its comment also says
// where the error must start (test/type-error-locations.test.ts checks that).

@Entity()
@LockModel('sku', { fence: 'lockFence' })
export class Product {
  @PrimaryGeneratedColumn() id!: number
  @Column({ unique: true }) sku!: string
  @Column({ type: 'bigint', default: 0 }) lockFence!: string
}

@Entity()
@Unique(['tenant', 'sku'])
@LockModel(['tenant', 'sku'], { model: 'StockItem', guard: false })
export class Item {
  @PrimaryGeneratedColumn() id!: number
  @Column() tenant!: string
  @Column() sku!: string
}

@Entity()
@LockModel()
export class Order {
  @PrimaryGeneratedColumn() id!: number
}

@Entity()
// @ts-expect-error on `LockModel`: the class has no property `skuu`
@LockModel('skuu')
export class Misspelt {
  @PrimaryGeneratedColumn() id!: number
  @Column({ unique: true }) sku!: string
}

@Entity()
// @ts-expect-error on `LockModel`: nor `tenat`, in a compound field
@LockModel(['tenat', 'sku'])
export class MisspeltCompound {
  @PrimaryGeneratedColumn() id!: number
  @Column() tenant!: string
  @Column() sku!: string
}

@Entity()
// @ts-expect-error on `LockModel`: the fence names a property too
@LockModel('sku', { fence: 'lockFense' })
export class MisspeltFence {
  @PrimaryGeneratedColumn() id!: number
  @Column({ unique: true }) sku!: string
  @Column({ type: 'bigint', default: 0 }) lockFence!: string
}

@Entity()
// @ts-expect-error on `gaurd`: a misspelt option is reported on the option
@LockModel('sku', { gaurd: false })
export class MisspeltOption {
  @PrimaryGeneratedColumn() id!: number
  @Column({ unique: true }) sku!: string
}

// Applied by hand, as plain JavaScript does: the class is checked the same way.
class Plain {
  sku = ''
}
LockModel('sku')(Plain)
// @ts-expect-error on `Plain`
LockModel('skuu')(Plain)
