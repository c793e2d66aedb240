export const ROOT: string;
export const SRC: string;
export const DIST: string;
export const STAMP: string;
export function compiledIsCurrent(): boolean;
