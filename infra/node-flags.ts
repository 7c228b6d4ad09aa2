/**
 * Node flags (not V8 flags: those are LAMBDA_V8_FLAGS in functions/contract.ts) that the stack adds
 * to the functions' NODE_OPTIONS and the bench gives its scenario processes, so both run alike.
 * Dependency-free, so the bench can read it without loading aws-cdk-lib.
 *
 * `--disable-warning=DEP0005`: exceljs's streaming writer reaches `new Buffer(string)` in
 * archiver-utils 2.1.0 (archiver 5, pinned by exceljs 4) at the first workbook. Unbundled, Node
 * stays quiet because the caller is inside node_modules; in a bundle it is not, so every report
 * run printed "[DEP0005] DeprecationWarning: Buffer() is deprecated" into its JSON logs. Nothing
 * of ours calls `Buffer()` and we cannot fix the dependency, so this one code is silenced; every
 * other warning and deprecation still prints. Node ≥ 21.3 accepts the flag in NODE_OPTIONS.
 */
export const LAMBDA_NODE_FLAGS = ['--disable-warning=DEP0005'] as const;
