export declare function nodeFlagsOf(file: string): string[];
