/**
 * The two sides of a proposed write (`harness.diffContents`) as `harness-diff:` URIs for VS
 * Code's native diff editor. Pure, unit-tested; diffView.ts holds the content provider.
 */

export const DIFF_SCHEME = "harness-diff";

export interface DiffSides {
  id: string;
  path: string;
  isNew: boolean;
  before: string;
  after: string;
}

/** Validate the server's answer; undefined when it sent none (only the patch can be shown). */
export function parseDiffSides(value: unknown): DiffSides | undefined {
  if (value === null || typeof value !== "object") {
    return undefined;
  }
  const v = value as Record<string, unknown>;
  const strings = ["id", "path", "before", "after"].every((k) => typeof v[k] === "string");
  if (!strings || v.id === "" || v.path === "") {
    return undefined;
  }
  return { id: v.id as string, path: v.path as string, isNew: v.isNew === true, before: v.before as string, after: v.after as string };
}

/**
 * Paths of the two documents: `/<approval id>/before/<file path>` and `…/proposed/…` (the file
 * name last, so the editor picks its language), and the diff editor's title.
 */
export function diffPaths(sides: DiffSides): { before: string; after: string; title: string } {
  const id = encodeURIComponent(sides.id);
  const path = sides.path
    .split("/")
    .filter((part) => part !== "" && part !== "." && part !== "..")
    .map(encodeURIComponent)
    .join("/");
  const name = sides.path.split("/").pop() ?? sides.path;
  return {
    before: `/${id}/before/${path}`,
    after: `/${id}/proposed/${path}`,
    title: `${name} ${sides.isNew ? "(new file) " : ""}↔ proposed by Harness`,
  };
}
