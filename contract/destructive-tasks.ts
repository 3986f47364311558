/**
 * Tasks that destroy data and so bind only by hand, with the operator typing the number of nodes
 * (`confirm_count`, docs/deploy.md "Erase"). Plain data, so the renderer imports it without the schema library.
 */

/** Tasks no rule, manifest row or tag binds, and whose bind needs `confirm_count`. */
export const DESTRUCTIVE_TASKS: readonly string[] = ['erase'];

/** True when binding to `task` needs the node count typed. */
export function isDestructiveTask(task: string | null | undefined): boolean {
  return DESTRUCTIVE_TASKS.includes(task ?? '');
}
