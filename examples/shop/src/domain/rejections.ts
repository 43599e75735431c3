import { CommandError } from '@goes/command';

/**
 * The reasons the shop refuses a command. A domain method throws a {@link CommandError} with
 * one of these codes; the command bus carries code, message and details back to the dispatcher
 * (also across processes), where `isCommandError(error, 'OUT_OF_STOCK')` tells them apart.
 */
export type RejectionCode =
  | 'INVALID_NAME'
  | 'PRODUCT_EXISTS'
  | 'UNKNOWN_PRODUCT'
  | 'INVALID_PRICE'
  | 'INVALID_QUANTITY'
  | 'OUT_OF_STOCK'
  | 'CUSTOMER_EXISTS'
  | 'UNKNOWN_CUSTOMER'
  | 'EMAIL_TAKEN'
  | 'INVALID_EMAIL'
  | 'ORDER_EXISTS'
  | 'UNKNOWN_ORDER'
  | 'EMPTY_ORDER'
  | 'ORDER_CANCELLED';

/** A refused command: a {@link CommandError} with a {@link RejectionCode} and JSON details. */
export function reject(
  code: RejectionCode,
  message: string,
  details?: Record<string, string | number | boolean>,
): CommandError {
  return new CommandError(code, message, details === undefined ? {} : { details });
}
