import 'reflect-metadata'
import { LockModel } from '@cachelock/typeorm'
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm'

/**
 * A product, locked per SKU (`product:sku:LAMP-1`). `lockFence` makes writes of a holder that lost
 * its lock fail instead of overwriting a newer holder's work.
 */
@Entity()
@LockModel('sku', { fence: 'lockFence' })
export class Product {
  @PrimaryGeneratedColumn() id!: number
  @Column('varchar', { unique: true }) sku!: string
  @Column('integer') stock!: number
  @Column({ type: 'bigint', default: 0 }) lockFence!: number
}

/** One unit set aside for a customer. */
@Entity()
export class Reservation {
  @PrimaryGeneratedColumn() id!: number
  @Column('varchar') sku!: string
  @Column('varchar') customer!: string
  @CreateDateColumn() createdAt!: Date
}
