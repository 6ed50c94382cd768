/**
 * Hands a fake to code that expects one of our classes. The fakes implement the members the code
 * under test calls (each declares them with `Pick<Class, …>`, so their signatures are checked);
 * the class's private fields are what this cast skips.
 */
export function standIn<T>(fake: Partial<NoInfer<T>>): T {
  return fake as T;
}
