export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  readonly code?: string | number;
  readonly cause?: SerializedError | string;
}

const MAX_CAUSE_DEPTH = 5;

/** An Error as plain JSON: its own fields are non-enumerable, so JSON.stringify prints `{}`. */
export function serializeError(error: Error, depth = 0): SerializedError {
  const code = (error as { code?: unknown }).code;
  const cause: unknown = error.cause;
  return {
    name: error.name,
    message: error.message,
    ...(error.stack ? { stack: error.stack } : {}),
    ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
    // Depth-bounded, so an error that is (indirectly) its own cause cannot loop.
    ...(cause instanceof Error && depth < MAX_CAUSE_DEPTH
      ? { cause: serializeError(cause, depth + 1) }
      : typeof cause === 'string'
        ? { cause }
        : {}),
  };
}
