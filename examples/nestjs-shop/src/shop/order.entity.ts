import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm'

@Entity('orders')
export class Order {
  @PrimaryGeneratedColumn() id!: number
  @Column('varchar') sku!: string
  @Column('varchar') customer!: string
  /** Which instance of the shop took the order. */
  @Column('varchar') instance!: string
  @CreateDateColumn() createdAt!: Date
}
