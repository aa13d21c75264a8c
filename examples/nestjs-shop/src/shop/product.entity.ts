import { LockModel } from '@cachelock/typeorm'
import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm'

/** Locked by SKU: the lock of `A-1` is named `product:sku:A-1` (under the module's prefix). */
@Entity()
@LockModel('sku')
export class Product {
  @PrimaryGeneratedColumn() id!: number
  @Column('varchar', { unique: true }) sku!: string
  @Column('integer') stock!: number
}
