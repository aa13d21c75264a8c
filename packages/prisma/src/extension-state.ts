import { invalidArgument, invalidShape, modelLockName } from '@cachelock/core/adapter-kit'
import { Prisma } from '@prisma/client/extension'
import { describeModel, type ModelInfo } from './model-info.js'
import { schemaUniques, type SchemaUniques } from './schema-uniques.js'
import type { ResolvedExtensionOptions } from './options.js'

/** The slice of a Prisma client the adapter uses; model delegates are reached by property. */
export interface PrismaClientLike {
  $extends(extension: object): PrismaClientLike
  $transaction<R>(fn: (tx: PrismaClientLike) => Promise<R>, options?: object): Promise<R>
  [model: string]: unknown
}

/** One `prisma.$extends(lockExtension())`: the options, the client it made, what it knows of the models. */
export class ExtensionState {
  readonly options: ResolvedExtensionOptions
  /** The client with this extension applied, as the app uses it: the lock methods, and the fencing of fenced models' writes. */
  client!: PrismaClientLike
  /**
   * `client` with the hook that refuses the queries of a `withLock` whose lock was lost: `withLock`
   * starts its transaction here (so `tx` has it), and hands it to `fn` as `tx` without one.
   */
  scoped!: PrismaClientLike
  readonly #models = new Map<string, ModelInfo>()
  /** The models' unique keys, from the schema text the client carries (when it does). */
  readonly #uniques: SchemaUniques | undefined

  /** Checks the configured models against `base`, the client being extended: a typo fails at `$extends`, not at the first lock. */
  constructor(options: ResolvedExtensionOptions, base: PrismaClientLike) {
    this.options = options
    const provider = (base as { _activeProvider?: unknown })._activeProvider
    if (options.lockIn === 'transaction' && typeof provider === 'string' && provider !== 'postgresql') {
      throw invalidArgument(
        'options.lockIn',
        `"store" on a ${provider} client ("transaction" takes PostgreSQL advisory locks)`,
        options.lockIn,
        'LOCK_NOT_SUPPORTED',
      )
    }
    this.#uniques = schemaUniques(base)
    for (const [name, settings] of options.models) {
      const delegate = base[modelLockName(name)] as { fields?: unknown } | undefined
      if (typeof delegate?.fields !== 'object' || name !== modelNameOf(delegate)) {
        throw invalidShape(
          'options.models',
          `keyed by model names as in the schema (${modelNames(base).join(', ')})`,
          `a key ${JSON.stringify(name)}`,
        )
      }
      this.#models.set(name, describeModel(name, delegate, settings, this.#uniques))
    }
  }

  /** The models with a fence column: only their writes go through the fencing hook. */
  get fencedModels(): ModelInfo[] {
    return [...this.#models.values()].filter((model) => model.fence !== undefined)
  }

  /** The call a model method serves: its model, and whether it was called on a transaction client. */
  call(that: unknown): ModelCall {
    const context = Prisma.getExtensionContext(that) as { $name?: string; $parent?: unknown }
    const name = context.$name
    if (typeof name !== 'string')
      throw new TypeError('cachelock: a model method was called without its model (call it as db.model.withLock(...))')
    let model = this.#models.get(name)
    if (!model) this.#models.set(name, (model = describeModel(name, context, undefined, this.#uniques)))
    return { state: this, model, onTransaction: isTransactionClient(context.$parent) }
  }
}

/** A model method call: which extension, which model. */
export interface ModelCall {
  readonly state: ExtensionState
  readonly model: ModelInfo
  /** Called on a transaction client's model (`tx.order.withLock`) rather than the client's. */
  readonly onTransaction: boolean
}

// Prisma's transaction clients are the client minus its deny list (`$extends`, `$connect`, ...).
function isTransactionClient(parent: unknown): boolean {
  return typeof parent === 'object' && parent !== null && typeof (parent as { $extends?: unknown }).$extends !== 'function'
}

function modelNameOf(delegate: { fields?: unknown }): string | undefined {
  const first = Object.values(delegate.fields as Record<string, { modelName?: unknown }>)[0]
  return typeof first?.modelName === 'string' ? first.modelName : undefined
}

function modelNames(base: PrismaClientLike): string[] {
  return Object.keys(base)
    .map((key) => base[key])
    .filter(
      (value): value is { fields: object } =>
        typeof value === 'object' && value !== null && typeof (value as { fields?: unknown }).fields === 'object',
    )
    .map((delegate) => modelNameOf(delegate))
    .filter((name): name is string => name !== undefined)
}
