export declare const OUTPUTS: readonly string[];
export declare function newestInput(root: string): number;
export declare function staleReason(root: string): string | undefined;
