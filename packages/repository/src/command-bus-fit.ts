import type { CommandMap, CommandName } from '@goes/command';

/**
 * The command map that handlers registered on a bus typed with map `B` are checked against: `B`
 * itself when the bus is typed (so handler maps written inline get their payload and result
 * types from the bus, and a map declared for part of `B` fits), and `M` — the map the handlers
 * were declared with — when the bus is the untyped `CommandBus`.
 *
 * @example
 * ```ts
 * type Checked = CommandsOf<ShopCommands, ProductCommands>; // ShopCommands
 * type Loose = CommandsOf<CommandMap, ProductCommands>; // ProductCommands
 * ```
 */
export type CommandsOf<B extends CommandMap, M extends CommandMap> = string extends keyof B ? M : B;

/**
 * A compile-time check that a command bus typed with map `B` carries the commands of map `M`:
 * `unknown` (no constraint) when `B` is the untyped `CommandMap` or has every command of `M` with
 * the same payload and result; otherwise an object type no bus has, whose property names the
 * commands in question, so the compiler's message says what is wrong. `handleBuiltinCommands`
 * intersects its bus parameter with it.
 *
 * @example
 * ```ts
 * declare function wire<B extends CommandMap>(bus: CommandBus<B> & CommandBusFit<B, BuiltinCommands>): void;
 * wire(createLocalCommandBus<ShopCommands & BuiltinCommands>()); // compiles
 * wire(createLocalCommandBus<ShopCommands>()); // error: the bus is not typed for these commands
 * ```
 */
export type CommandBusFit<B extends CommandMap, M extends CommandMap> = string extends keyof B
  ? unknown
  : [B] extends [M]
    ? unknown
    : {
        readonly 'the command bus is not typed for these commands (missing, or with other payload or result types)': CommandName<M>;
      };
