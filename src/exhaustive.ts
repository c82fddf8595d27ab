// Exhaustiveness checks for a `switch` over a closed union: called in its
// `default:` with the switched value, they make a member that no `case`
// handles a compile error at that switch (the value is not `never` there).

/** A union of our own: reaching the end at run time is a bug, so it throws. */
export function unreachable(value: never): never {
  throw new Error(`unreachable: ${JSON.stringify(value)} is not handled`)
}

/**
 * A union that data from outside claims to fit (an engine's states): the same
 * compile-time check, but a value a newer engine sends is no bug of ours, so
 * the switch's caller goes on past it.
 */
export function unlisted(value: never): void {
  void value
}
