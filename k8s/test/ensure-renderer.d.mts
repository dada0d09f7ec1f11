export const K8S_STATE_DIR: string;
/** Path of the renderer binary for the current k8s/test/renderer/main.go. */
export function rendererPath(): string;
/** Builds the renderer (installing Go, sprig, kubectl, yamllint with apt when missing) and returns its path. */
export function ensureRenderer(): Promise<string>;
