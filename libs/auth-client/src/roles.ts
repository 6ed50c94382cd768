/** Roles a route requires: every role of `all`, and at least one of `any` when given. */
export interface RoleRequirement {
  all?: readonly string[];
  any?: readonly string[];
}

/** True when `roles` meet every requirement (an empty list of requirements is always met). */
export function hasRoles(
  roles: readonly string[],
  ...requirements: Array<RoleRequirement | undefined>
): boolean {
  const held = new Set(roles);
  return requirements.every((requirement) => {
    if (!requirement) return true;
    const all = requirement.all ?? [];
    const any = requirement.any ?? [];
    return all.every((role) => held.has(role)) && (any.length === 0 || any.some((role) => held.has(role)));
  });
}
