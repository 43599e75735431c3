import type { Codec } from '@goes/codec';
import { isCodecError } from '@goes/codec';
import { InvalidArgumentError, isUuid } from '@goes/event';
import type { Command } from '../command.js';
import { InvalidCommandError, UnknownCommandError } from '../errors.js';

const show = (value: unknown): string => {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
};

/**
 * Checks the shape of a command: an object with a UUID id, a non-empty name, and an aggregate
 * that, when present, has a non-empty name and a UUID id.
 */
export function checkCommand(command: unknown): asserts command is Command {
  if (typeof command !== 'object' || command === null) {
    throw new InvalidCommandError(`expected a command object, got ${show(command)}`);
  }
  const { id, name, aggregate } = command as Partial<Record<keyof Command, unknown>>;
  if (typeof name !== 'string' || name.length === 0) {
    throw new InvalidCommandError(`name ${show(name)} must be a non-empty string`);
  }
  if (!isUuid(id)) {
    throw new InvalidCommandError(
      `command ${show(name)}: id ${show(id)} is not a lowercase canonical UUID`,
    );
  }
  if (aggregate !== undefined) {
    const ref = aggregate as { name?: unknown; id?: unknown } | null;
    if (typeof ref !== 'object' || ref === null) {
      throw new InvalidCommandError(
        `command ${show(name)}: aggregate ${show(aggregate)} must be { name, id }`,
      );
    }
    if (typeof ref.name !== 'string' || ref.name.length === 0) {
      throw new InvalidCommandError(
        `command ${show(name)}: aggregate name ${show(ref.name)} must be a non-empty string`,
      );
    }
    if (!isUuid(ref.id)) {
      throw new InvalidCommandError(
        `command ${show(name)}: aggregate id ${show(ref.id)} is not a lowercase canonical UUID`,
      );
    }
  }
}

/** Turns a codec failure for a command's payload into the command layer's typed error. */
function codecFailure(name: string, error: unknown): Error {
  if (isCodecError(error)) {
    if (error.code === 'CODEC_UNKNOWN_NAME') return new UnknownCommandError(name, { cause: error });
    return new InvalidCommandError(`payload of ${show(name)}: ${error.message}`, { cause: error });
  }
  return new InvalidCommandError(
    `payload of ${show(name)}: ${error instanceof Error ? error.message : String(error)}`,
    { cause: error },
  );
}

/**
 * Validates a command's payload with the codec (its schema, and a strict codec's list of names)
 * and returns the schema's output; without a codec, returns the payload as is.
 */
export function validatePayload(codec: Codec | undefined, command: Command): unknown {
  if (!codec) return command.payload;
  try {
    return codec.validate(command.name, command.payload);
  } catch (error) {
    throw codecFailure(command.name, error);
  }
}

/** Encodes a command's payload with the codec (which validates it too). */
export function encodePayload(codec: Codec, command: Command): string {
  try {
    return codec.encode(command.name, command.payload);
  } catch (error) {
    throw codecFailure(command.name, error);
  }
}

/** Decodes a payload received from the wire; failures become typed command errors. */
export function decodePayload(codec: Codec, name: string, encoded: string): unknown {
  try {
    return codec.decode(name, encoded);
  } catch (error) {
    throw codecFailure(name, error);
  }
}

/** Checks the names given to `subscribe`/`handle`: non-empty strings, no duplicates. */
export function checkNames(names: unknown): string[] {
  if (!Array.isArray(names) || names.length === 0) {
    throw new InvalidArgumentError(
      `expected a non-empty array of command names, got ${show(names)}`,
    );
  }
  names.forEach((name, i) => {
    if (typeof name !== 'string' || name.length === 0) {
      throw new InvalidArgumentError(`names[${i}] ${show(name)} must be a non-empty string`);
    }
  });
  return [...new Set(names as string[])];
}

/** Checks a handler function. */
export function checkHandler(name: string, handler: unknown): void {
  if (typeof handler !== 'function') {
    throw new InvalidArgumentError(
      `the handler of ${show(name)} must be a function, got ${show(handler)}`,
    );
  }
}
