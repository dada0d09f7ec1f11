/** Every generated file, path relative to k8s/kustomize -> content. */
export function generate(): Promise<Record<string, string>>;
/** Generated paths whose committed content differs from a fresh generation (or are extra/missing). */
export function drift(): Promise<string[]>;
